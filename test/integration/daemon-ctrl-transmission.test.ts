/**
 * `@ctrl/transmission` (a widely used TypeScript client of Transmission's RPC) drives the real
 * `lodestone daemon` (the CLI bundle) over a real loopback swarm (opentracker + a Lodestone
 * seeder): add a multi-file `.torrent` paused, deselect a file, start, a magnet (`x.pe`), list,
 * pause/resume, verify, move, remove with data. Every answer is checked, and the files on disk.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Transmission } from '@ctrl/transmission';
import { eventually, startDaemonProcess } from '../helpers/daemon-process.js';
import { startDaemonSwarm } from '../helpers/daemon-swarm.js';
import { requireTool } from '../helpers/tools.js';

const DAEMON_HOST = '127.0.0.73';
const SEEDER_HOST = '127.0.0.74';

describe('@ctrl/transmission drives the lodestone daemon', { timeout: 100_000 }, () => {
  test('a whole life over a loopback swarm', async (t) => {
    if (!requireTool(t, 'mktorrent') || !requireTool(t, 'opentracker')) return;
    const work = await mkdtemp(join(tmpdir(), 'daemon-ctrl-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const swarm = await startDaemonSwarm(t, work, SEEDER_HOST, [
      {
        name: 'show',
        files: [
          { path: 'e1.mkv', size: 400_000 },
          { path: 'e2.mkv', size: 300_000 },
          { path: 'e3.mkv', size: 200_000 },
        ],
      },
      { name: 'film.mkv', files: [{ path: 'film.mkv', size: 3_000_000 }] },
    ]);
    const [show, film] = swarm.torrents as [(typeof swarm.torrents)[0], (typeof swarm.torrents)[0]];
    const downloads = join(work, 'downloads');
    await mkdir(downloads, { recursive: true });
    const sibling = join(downloads, 'keep.txt');
    await writeFile(sibling, 'keep me');
    const daemon = await startDaemonProcess(t, {
      stateDir: join(work, 'state'),
      downloadDir: downloads,
      host: DAEMON_HOST,
      username: 'bob',
      password: 'pw',
    });
    const client = new Transmission({
      baseUrl: `http://127.0.0.1:${daemon.rpcPort}/`,
      username: 'bob',
      password: 'pw',
      timeout: 10_000,
    });
    const wrong = new Transmission({
      baseUrl: `http://127.0.0.1:${daemon.rpcPort}/`,
      username: 'bob',
      password: 'x',
    });
    await assert.rejects(wrong.getSession(), /401/);

    // Added paused; e2 deselected; then started.
    // @ctrl/transmission sends 'download-dir': '/downloads' unless told otherwise.
    const added = await client.addTorrent(await readFile(show.torrentPath), {
      paused: true,
      'download-dir': downloads,
    });
    assert.equal(added.result, 'success');
    const showHash = added.arguments['torrent-added'].hashString;
    assert.equal(showHash, show.facts.infoHashHex);
    assert.equal((await client.getTorrent(showHash)).state, 'paused');
    const set = await client.setTorrent(showHash, { 'files-unwanted': [1] });
    assert.equal(set.result, 'success');
    const deselected = join(downloads, 'show', 'e2.mkv');
    let deselectedSeen = false;
    const watch = setInterval(() => {
      if (existsSync(deselected)) deselectedSeen = true;
    }, 5);
    t.after(() => clearInterval(watch));
    await client.resumeTorrent(showHash);
    const done = await eventually('show complete', async () => {
      const data = await client.getTorrent(showHash);
      return data.isCompleted && data.state !== 'downloading' ? data : undefined;
    });
    clearInterval(watch);
    assert.equal(done.name, 'show');
    assert.equal(done.totalSize, 900_000);
    assert.equal(done.totalSelected, 600_000);
    assert.equal(done.progress, 1);
    assert.equal(done.savePath, downloads);
    assert.equal(deselectedSeen || existsSync(deselected), false, 'the deselected file never appeared');
    for (const name of ['e1.mkv', 'e3.mkv'])
      assert.ok(
        (await readFile(join(downloads, 'show', name))).equals(show.files.get(`show/${name}`)!),
        name,
      );

    // The magnet, limited per torrent so that it can be seen at work, then freed.
    const magnet = await client.addMagnet(swarm.magnetOf(film), { 'download-dir': downloads });
    assert.equal(magnet.result, 'success');
    const filmHash = film.facts.infoHashHex;
    await client.setTorrent(filmHash, { downloadLimit: 100, downloadLimited: true });
    const slow = await eventually('film downloading', async () => {
      const data = await client.getTorrent(filmHash);
      return data.state === 'downloading' && data.name === 'film.mkv' && data.totalSize === 3_000_000
        ? data
        : undefined;
    });
    assert.ok(slow.progress < 1);
    const all = await client.getAllData();
    assert.deepEqual(all.torrents.map((x) => x.name).sort(), ['film.mkv', 'show']);
    await client.pauseTorrent(filmHash);
    assert.equal((await client.getTorrent(filmHash)).state, 'paused');
    await client.resumeTorrent(filmHash);
    await client.setTorrent(filmHash, { downloadLimited: false });
    await eventually('film complete', async () => (await client.getTorrent(filmHash)).isCompleted);
    assert.ok((await readFile(join(downloads, 'film.mkv'))).equals(film.files.get('film.mkv')!));

    // Verify, move, remove with data.
    assert.equal((await client.verifyTorrent(showHash)).result, 'success');
    await eventually('show verified again', async () => {
      const data = await client.getTorrent(showHash);
      return data.isCompleted && data.state !== 'checking' && data.state !== 'queued';
    });
    const elsewhere = join(work, 'elsewhere');
    assert.equal((await client.moveTorrent(showHash, elsewhere)).result, 'success');
    await eventually('show moved', async () => (await client.getTorrent(showHash)).savePath === elsewhere);
    assert.ok((await readFile(join(elsewhere, 'show', 'e3.mkv'))).equals(show.files.get('show/e3.mkv')!));
    assert.equal(existsSync(join(downloads, 'show')), false, 'the old folder is gone');
    assert.equal((await client.removeTorrent(filmHash, true)).result, 'success');
    await eventually('film deleted', async () => !existsSync(join(downloads, 'film.mkv')));
    assert.equal(await readFile(sibling, 'utf8'), 'keep me');
    assert.deepEqual(
      (await client.getAllData()).torrents.map((x) => x.name),
      ['show'],
    );
    assert.equal((await daemon.stop()).code, 0);
  });
});
