/**
 * The real `transmission-remote` (Transmission 3.00) drives the real `lodestone daemon` (the CLI
 * bundle) through a whole life over a real loopback swarm (opentracker + a Lodestone seeder):
 * add a multi-file `.torrent` paused and a magnet (`x.pe`), deselect a file (`-G`) and check it
 * never appears on disk, list, info, pause/resume, limits and turtle mode, verify, move, remove
 * with data. Every answer is parsed and checked. A missing transmission-remote skips locally and
 * fails in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type DaemonProcess, eventually, startDaemonProcess } from '../helpers/daemon-process.js';
import { startDaemonSwarm } from '../helpers/daemon-swarm.js';
import { requireTool } from '../helpers/tools.js';

const DAEMON_HOST = '127.0.0.71';
const SEEDER_HOST = '127.0.0.72';
const USER = 'remote-user';
const PASS = 'remote-pass';

function remote(daemon: DaemonProcess, args: string[], credentials = `${USER}:${PASS}`) {
  return new Promise<{ out: string; err: string; code: number }>((resolve) => {
    execFile(
      'transmission-remote',
      [`127.0.0.1:${daemon.rpcPort}`, '-n', credentials, ...args],
      { timeout: 15_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ out: stdout, err: stderr, code });
      },
    );
  });
}

interface Row {
  id: number;
  done: string;
  status: string;
  name: string;
}

/** The rows of `-l`: ID, Done, Have, ETA, Up, Down, Ratio, Status, Name. */
function parseList(text: string): Row[] {
  const rows: Row[] = [];
  for (const line of text.split('\n')) {
    const match = line.match(
      /^\s+(\d+)\*?\s+(\S+)\s+(?:None|[\d.]+ \S+)\s+(?:\S+|\d+ \S+)\s+[\d.]+\s+[\d.]+\s+(?:None|[\d.]+|Inf)\s+(Idle|Seeding|Stopped|Downloading|Up & Down|Uploading|Verifying|Will Verify|Queued)\s+(.+)$/,
    );
    if (match) rows.push({ id: Number(match[1]), done: match[2]!, status: match[3]!, name: match[4]! });
  }
  return rows;
}

describe('transmission-remote drives the lodestone daemon', { timeout: 100_000 }, () => {
  test('a whole life over a loopback swarm', async (t) => {
    if (
      !requireTool(t, 'transmission-remote') ||
      !requireTool(t, 'mktorrent') ||
      !requireTool(t, 'opentracker')
    )
      return;
    const work = await mkdtemp(join(tmpdir(), 'daemon-remote-'));
    t.after(() => rm(work, { recursive: true, force: true }));
    const swarm = await startDaemonSwarm(t, work, SEEDER_HOST, [
      {
        name: 'album',
        files: [
          { path: 'one.bin', size: 300_000 },
          { path: 'two.bin', size: 500_000 },
          { path: 'three.bin', size: 400_000 },
        ],
      },
      { name: 'movie.bin', files: [{ path: 'movie.bin', size: 3_000_000 }] },
    ]);
    const [album, movie] = swarm.torrents as [(typeof swarm.torrents)[0], (typeof swarm.torrents)[0]];
    const downloads = join(work, 'downloads');
    await mkdir(downloads, { recursive: true });
    const sibling = join(downloads, 'sibling.txt');
    await writeFile(sibling, 'not a torrent file');
    const daemon = await startDaemonProcess(t, {
      stateDir: join(work, 'state'),
      downloadDir: downloads,
      host: DAEMON_HOST,
      username: USER,
      password: PASS,
      extra: ['--log-level', 'debug'],
    });
    const ok = async (args: string[]): Promise<string> => {
      const { out, err, code } = await remote(daemon, args);
      assert.equal(code, 0, `transmission-remote ${args.join(' ')} failed: ${err}${out}`);
      return out;
    };
    const list = async (): Promise<Row[]> => parseList(await ok(['-l']));

    // A wrong password is refused.
    const refused = await remote(daemon, ['-l'], `${USER}:wrong`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.out + refused.err, /401/);

    // The album is added paused, a file deselected, then started.
    assert.match(await ok(['--start-paused', '-a', album.torrentPath]), /responded: "success"/);
    let rows = await list();
    assert.deepEqual(
      rows.map((r) => [r.id, r.name, r.status]),
      [[1, 'album', 'Stopped']],
    );
    await ok(['-t', '1', '-G', '1']);
    const wantedLines = await ok(['-t', '1', '-if']);
    assert.match(wantedLines, /album \(3 files\)/);
    // mktorrent sorts the files: one, three, two.
    assert.match(wantedLines, /0:\s+0% Normal\s+Yes\s+300\.0 kB\s+album\/one\.bin/);
    assert.match(wantedLines, /1:\s+0% Normal\s+No\s+400\.0 kB\s+album\/three\.bin/);
    assert.match(wantedLines, /2:\s+0% Normal\s+Yes\s+500\.0 kB\s+album\/two\.bin/);
    const deselected = join(downloads, 'album', 'three.bin');
    let deselectedSeen = false;
    const watch = setInterval(() => {
      if (existsSync(deselected)) deselectedSeen = true;
    }, 5);
    t.after(() => clearInterval(watch));
    await ok(['--no-start-paused']);
    await ok(['-t', '1', '-s']);
    await eventually('the album done', async () =>
      (await list()).find((r) => r.id === 1 && r.done === '100%' && r.status !== 'Downloading'),
    );
    clearInterval(watch);
    for (const [path, bytes] of album.files) {
      if (path === 'album/three.bin') continue;
      assert.ok((await readFile(join(downloads, path))).equals(bytes), `${path} byte-exact`);
    }
    assert.equal(deselectedSeen || existsSync(deselected), false, 'the deselected file never appeared');
    const info = await ok(['-t', '1', '-i']);
    assert.match(info, /Name: album\n/);
    assert.match(info, new RegExp(`Hash: ${album.facts.infoHashHex}\n`));
    assert.match(info, /Percent Done: 100%/);
    assert.match(info, /Total size: 1\.20 MB \(800\.0 kB wanted\)/);
    assert.match(info, /State: (Idle|Seeding)/);
    const trackers = await ok(['-t', '1', '-it']);
    assert.match(
      trackers,
      new RegExp(`Tracker 0: ${swarm.trackerUrl.replace(/\/announce$/, '').replace(/\./g, '\\.')}`),
    );
    assert.match(trackers, /Got a list of \d+ peers/);

    // A global download limit, then the magnet: it downloads slowly enough to be seen at work.
    await ok(['-d', '200']);
    let si = await ok(['-si']);
    assert.match(si, /Download speed limit: 200 kB\/s/);
    // The port peers reach it on, not the configured 0 (`--port 0`: any free port).
    assert.match(si, new RegExp(`Listenport: ${daemon.peerPort}\\b`));
    assert.match(await ok(['-a', swarm.magnetOf(movie)]), /responded: "success"/);
    const moving = await eventually('the magnet downloading', async () =>
      (await list()).find((r) => r.id === 2 && r.name === 'movie.bin' && r.status === 'Downloading'),
    );
    assert.notEqual(moving.done, '100%');
    const peers = await eventually('the seeder among the peers', async () => {
      const text = await ok(['-t', '2', '-ip']);
      return text.includes(SEEDER_HOST) ? text : undefined;
    });
    assert.match(peers, new RegExp(`${SEEDER_HOST.replace(/\./g, '\\.')}\\s+\\S*\\s+100\\.0`));
    // Pause and resume.
    await ok(['-t', '2', '-S']);
    rows = await list();
    assert.equal(rows.find((r) => r.id === 2)?.status, 'Stopped');
    await ok(['-t', '2', '-s']);
    // Upload limit and turtle mode show in the session.
    await ok(['-u', '300']);
    await ok(['-as']);
    si = await ok(['-si']);
    // Turtle on: the effective limits are the alt ones, the normal ones are kept.
    assert.match(
      si,
      /Upload speed limit: 50 kB\/s \(Enabled limit: 300 kB\/s; Enabled turtle limit: 50 kB\/s\)/,
    );
    assert.match(
      si,
      /Download speed limit: 50 kB\/s \(Enabled limit: 200 kB\/s; Enabled turtle limit: 50 kB\/s\)/,
    );
    const turtle = await daemon.rpc<Record<string, unknown>>('session-get');
    assert.equal(turtle['alt-speed-enabled'], true);
    assert.equal(turtle['speed-limit-down'], 200);
    assert.equal(turtle['speed-limit-down-enabled'], true);
    assert.equal(turtle['speed-limit-up'], 300);
    await ok(['-AS']);
    await ok(['-D']);
    await ok(['-U']);
    const free = await daemon.rpc<Record<string, unknown>>('session-get');
    assert.equal(free['alt-speed-enabled'], false);
    assert.equal(free['speed-limit-down-enabled'], false);
    assert.equal(free['speed-limit-up-enabled'], false);
    await eventually('the magnet done', async () =>
      (await list()).find((r) => r.id === 2 && r.done === '100%'),
    );
    assert.ok((await readFile(join(downloads, 'movie.bin'))).equals(movie.files.get('movie.bin')!));

    // Verify, then move, then remove with data.
    const readyLines = () => [
      ...daemon.log().matchAll(/torrent 1: ready, (\d+) pieces verified, (\d+) hashed/g),
    ];
    const readyBefore = readyLines().length;
    await ok(['-t', '1', '-v']);
    // The verify reads and hashes the pieces again (the daemon's debug line says how many).
    const line = await eventually('the verify done', async () => readyLines()[readyBefore]);
    t.diagnostic(`-v: ${line[0]}`);
    // The wanted files are one.bin [0, 300,000) and two.bin [700,000, 1,200,000): every piece
    // touching them is hashed and verified again, none of three.bin's alone.
    const piece = album.facts.pieceLength;
    const touching = (from: number, to: number) =>
      Math.floor((to - 1) / piece) - Math.floor(from / piece) + 1;
    const wantedPieces = touching(0, 300_000) + touching(700_000, 1_200_000);
    assert.deepEqual([Number(line[1]), Number(line[2])], [wantedPieces, wantedPieces], line[0]);
    await eventually('verified again', async () => {
      const row = (await list()).find((r) => r.id === 1);
      return row?.done === '100%' && row.status !== 'Verifying' && row.status !== 'Will Verify'
        ? row
        : undefined;
    });
    const elsewhere = join(work, 'elsewhere');
    await ok(['-t', '1', '--move', elsewhere]);
    await eventually('the album moved', async () => existsSync(join(elsewhere, 'album', 'one.bin')));
    assert.ok(
      (await readFile(join(elsewhere, 'album', 'two.bin'))).equals(album.files.get('album/two.bin')!),
    );
    assert.equal(existsSync(join(elsewhere, 'album', 'three.bin')), false, 'still not there after the move');
    assert.equal(existsSync(join(downloads, 'album', 'one.bin')), false, 'moved away');
    assert.match(await ok(['-t', '1', '-i']), new RegExp(`Location: ${elsewhere.replace(/\./g, '\\.')}`));
    await ok(['-t', '2', '--remove-and-delete']);
    await eventually('the magnet removed', async () => !existsSync(join(downloads, 'movie.bin')));
    assert.equal(await readFile(sibling, 'utf8'), 'not a torrent file', 'a sibling file survives');
    rows = await list();
    assert.deepEqual(
      rows.map((r) => r.name),
      ['album'],
    );
    assert.equal((await daemon.stop()).code, 0);
  });
});
