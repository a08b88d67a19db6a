/**
 * `torrent-rename-path` on the real `lodestone daemon` (the CLI bundle), driven by
 * `@ctrl/transmission` (transmission-remote 3.00 has no `--rename`; it shows the names) over a
 * real loopback swarm: an unwanted file not on disk yet is renamed in the mapping only, a
 * subfolder is renamed while the torrent downloads, the top folder while it seeds. The files
 * end byte-exact at the new paths, a verify passes, a leecher that only knows the daemon gets
 * every byte, and after a restart the names stay and no piece is hashed again.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Transmission } from '@ctrl/transmission';
import { Client } from '../../src/session/client.js';
import { type DaemonProcess, eventually, startDaemonProcess } from '../helpers/daemon-process.js';
import { startDaemonSwarm } from '../helpers/daemon-swarm.js';
import { requireTool } from '../helpers/tools.js';

const DAEMON_HOST = '127.0.0.181';
const SEEDER_HOST = '127.0.0.182';
const LEECHER_HOST = '127.0.0.183';

interface TorrentRow {
  name: string;
  percentDone: number;
  leftUntilDone: number;
  files: { name: string; bytesCompleted: number }[];
}

async function torrent(daemon: DaemonProcess): Promise<TorrentRow> {
  const got = await daemon.rpc<{ torrents: TorrentRow[] }>('torrent-get', {
    ids: [1],
    fields: ['name', 'percentDone', 'leftUntilDone', 'files'],
  });
  return got.torrents[0]!;
}

function remoteList(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    import('node:child_process').then(({ execFile }) =>
      execFile(
        'transmission-remote',
        [`127.0.0.1:${port}`, '-n', 'ren:pw', ...args],
        { timeout: 15_000 },
        (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(stdout),
      ),
    );
  });
}

describe('torrent-rename-path on the lodestone daemon', { timeout: 100_000 }, () => {
  test('renames while downloading and seeding; bytes, verify and restart hold', async (t) => {
    if (
      !requireTool(t, 'transmission-remote') ||
      !requireTool(t, 'mktorrent') ||
      !requireTool(t, 'opentracker')
    )
      return;
    const work = await mkdtemp(join(tmpdir(), 'daemon-rename-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const swarm = await startDaemonSwarm(t, work, SEEDER_HOST, [
      {
        name: 'album',
        files: [
          { path: 'a.bin', size: 400_000 },
          { path: 'sub/b.bin', size: 600_000 },
          { path: 'sub/c.bin', size: 500_000 },
        ],
      },
    ]);
    const album = swarm.torrents[0]!;
    const downloads = join(work, 'downloads');
    await mkdir(downloads, { recursive: true });
    const options = {
      stateDir: join(work, 'state'),
      downloadDir: downloads,
      host: DAEMON_HOST,
      username: 'ren',
      password: 'pw',
      extra: ['--log-level', 'debug'],
    };
    let daemon = await startDaemonProcess(t, options);
    const client = new Transmission({
      baseUrl: `http://127.0.0.1:${daemon.rpcPort}/`,
      username: 'ren',
      password: 'pw',
      timeout: 10_000,
    });

    // Slow enough to rename while it downloads; c.bin unwanted (never created).
    await daemon.rpc('session-set', { 'speed-limit-down': 150, 'speed-limit-down-enabled': true });
    const added = await client.addTorrent(await readFile(album.torrentPath), {
      paused: true,
      'download-dir': downloads,
    });
    const hash = added.arguments['torrent-added'].hashString;
    await client.setTorrent(hash, { 'files-unwanted': [2] });
    await client.resumeTorrent(hash);
    await eventually('the download under way', async () => {
      const row = await torrent(daemon);
      return row.percentDone > 0.05 && row.percentDone < 0.7 ? row : undefined;
    });

    // The unwanted file: renamed in the mapping only (nothing on disk under either name).
    const unwanted = await client.renamePath(hash, { path: 'album/sub/c.bin', name: 'c-later.bin' });
    assert.equal(unwanted.result, 'success');
    assert.deepEqual(unwanted.arguments, { id: 1, path: 'album/sub/c.bin', name: 'c-later.bin' });
    // The subfolder, while the torrent downloads.
    const sub = await client.renamePath(hash, { path: 'album/sub', name: 'disc2' });
    assert.deepEqual(sub.arguments, { id: 1, path: 'album/sub', name: 'disc2' });
    assert.equal(existsSync(join(downloads, 'album', 'sub')), false, 'the folder is renamed on disk');
    // Hostile or clashing names are refused, with the reason as the result.
    for (const name of ['../escape', 'a/b', '', '.', 'x\u0000y', 'x'.repeat(300)])
      await assert.rejects(
        daemon.rpc('torrent-rename-path', { ids: [1], path: 'album/a.bin', name }),
        /invalid new name/,
      );
    await assert.rejects(
      daemon.rpc('torrent-rename-path', { ids: [1], path: 'album/disc2', name: 'a.bin' }),
      /already has/,
    );
    await assert.rejects(
      daemon.rpc('torrent-rename-path', { ids: [1], path: 'album/nothere', name: 'x' }),
      /no file or folder/,
    );
    assert.deepEqual(
      (await torrent(daemon)).files.map((f) => f.name),
      ['album/a.bin', 'album/disc2/b.bin', 'album/disc2/c-later.bin'],
    );

    // c.bin wanted again, limit off: it all lands at the new paths.
    await client.setTorrent(hash, { 'files-wanted': [2] });
    await daemon.rpc('session-set', { 'speed-limit-down-enabled': false });
    await eventually('the album done', async () => {
      const row = await torrent(daemon);
      return row.percentDone === 1 && row.leftUntilDone === 0 ? row : undefined;
    });
    const expect = new Map([
      ['album/a.bin', album.files.get('album/a.bin')!],
      ['album/disc2/b.bin', album.files.get('album/sub/b.bin')!],
      ['album/disc2/c-later.bin', album.files.get('album/sub/c.bin')!],
    ]);
    for (const [path, bytes] of expect)
      assert.ok((await readFile(join(downloads, path))).equals(bytes), `${path} byte-exact`);
    assert.equal(existsSync(join(downloads, 'album', 'sub')), false, 'nothing written at the old folder');
    assert.equal(existsSync(join(downloads, 'album', 'disc2', 'c.bin')), false);

    // The top folder while it seeds: the torrent's name follows.
    const top = await client.renamePath(hash, { path: 'album', name: 'record' });
    assert.deepEqual(top.arguments, { id: 1, path: 'album', name: 'record' });
    assert.equal(existsSync(join(downloads, 'album')), false);
    for (const [path, bytes] of expect) {
      const renamed = path.replace(/^album\//, 'record/');
      assert.ok((await readFile(join(downloads, renamed))).equals(bytes), `${renamed} byte-exact`);
    }
    const files = await remoteList(daemon.rpcPort, ['-t', '1', '-if']);
    assert.match(files, /record \(3 files\)/);
    assert.match(files, /record\/disc2\/c-later\.bin/);
    assert.match(await remoteList(daemon.rpcPort, ['-l']), /\s+record\n/);

    // A verify reads every piece at the new paths and finds them all.
    const readyLines = () => [
      ...daemon.log().matchAll(/torrent 1: ready, (\d+) pieces verified, (\d+) hashed/g),
    ];
    const before = readyLines().length;
    await daemon.rpc('torrent-verify', { ids: [1] });
    const verified = await eventually('the verify done', async () => readyLines()[before]);
    const pieces = album.meta.pieceCount;
    assert.deepEqual([Number(verified[1]), Number(verified[2])], [pieces, pieces], verified[0]);

    // A leecher that knows only the daemon (no tracker) gets the torrent byte-exact.
    const leecher = new Client({ hashWorkers: 1, port: 0, bindAddress: LEECHER_HOST });
    t.after(() => leecher.close());
    const leechDir = join(work, 'leech');
    const session = leecher.add(
      { ...album.meta, announceTiers: [] },
      { path: leechDir, peers: [{ host: DAEMON_HOST, port: daemon.peerPort }] },
    );
    const done = new Promise<void>((resolve) => session.once('done', () => resolve()));
    await session.start();
    await done;
    for (const [path, bytes] of album.files)
      assert.ok((await readFile(join(leechDir, path))).equals(bytes), `leeched ${path} byte-exact`);
    await leecher.close();

    // Restart: still renamed, nothing hashed.
    assert.equal((await daemon.stop()).code, 0);
    daemon = await startDaemonProcess(t, options);
    const line = await daemon.waitLog(/torrent 1: ready, (\d+) pieces verified, (\d+) hashed/);
    assert.deepEqual([Number(line[1]), Number(line[2])], [pieces, 0], line[0]);
    const after = await torrent(daemon);
    assert.equal(after.name, 'record');
    assert.deepEqual(
      after.files.map((f) => [f.name, f.bytesCompleted]),
      [
        ['record/a.bin', 400_000],
        ['record/disc2/b.bin', 600_000],
        ['record/disc2/c-later.bin', 500_000],
      ],
    );
    assert.equal((await daemon.stop()).code, 0);
  });
});
