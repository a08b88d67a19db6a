/**
 * The real `transmission-remote` (Transmission 3.00's command-line client) against Lodestone's
 * RPC on loopback, with basic auth, over the in-memory daemon: its output is parsed and the
 * daemon's recorded calls checked. A missing transmission-remote skips locally, fails in CI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RpcServer, startRpcServer } from '../../src/daemon/index.js';
import { hashRpcPassword } from '../../src/daemon/rpc-password.js';
import { MemoryDaemon, makeTorrentBytes } from '../helpers/memory-daemon.js';
import { requireTool } from '../helpers/tools.js';

const HOST = '127.0.0.44';
const MAGNET = 'magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=from-magnet';

describe('transmission-remote against the Lodestone RPC', { timeout: 90_000 }, () => {
  let api: MemoryDaemon;
  let server: RpcServer | undefined;
  let dir: string;
  let torrentPath: string;
  let available = true;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpc-remote-'));
    torrentPath = join(dir, 'album.torrent');
    await writeFile(
      torrentPath,
      makeTorrentBytes(
        'album',
        [
          { path: ['one.flac'], length: 300_000 },
          { path: ['two.flac'], length: 200_000 },
        ],
        { comment: 'a test album' },
      ),
    );
    api = new MemoryDaemon({
      'rpc-bind-address': HOST,
      'rpc-whitelist': `127.0.0.1,${HOST}`,
      'rpc-authentication-required': true,
      'rpc-username': 'alice',
      'rpc-password': hashRpcPassword('s3cret'),
    });
    server = await startRpcServer(api, { configDir: dir });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs transmission-remote with the given arguments; resolves with stdout, stderr and the exit code. */
  function remote(
    args: string[],
    credentials = 'alice:s3cret',
  ): Promise<{ out: string; err: string; code: number }> {
    return new Promise((resolve) => {
      execFile(
        'transmission-remote',
        [`${HOST}:${server?.port}`, '-n', credentials, ...args],
        { timeout: 15_000, cwd: dir },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ out: stdout, err: stderr, code });
        },
      );
    });
  }

  async function ok(args: string[]): Promise<string> {
    const { out, err, code } = await remote(args);
    assert.equal(code, 0, `transmission-remote ${args.join(' ')} failed: ${err}${out}`);
    return out;
  }

  test('tool present', (t) => {
    available = requireTool(t, 'transmission-remote');
  });

  test('a wrong password is refused', async (t) => {
    if (!available) return t.skip('transmission-remote not installed');
    const { out, err, code } = await remote(['-l'], 'alice:wrong');
    assert.notEqual(code, 0);
    assert.match(out + err, /401: Unauthorized/);
    assert.equal(api.calls.length, 0);
  });

  test('-a <file> and -a <magnet> add; -l lists them', async (t) => {
    if (!available) return t.skip('transmission-remote not installed');
    assert.match(await ok(['-a', torrentPath]), /responded: "success"/);
    assert.match(await ok(['-a', MAGNET]), /responded: "success"/);
    const adds = api.callsOf('add').map((args) => (args[0] as { source: { kind: string } }).source.kind);
    // transmission-remote reads a local file itself and sends it as base64 metainfo.
    assert.deepEqual(adds, ['metainfo', 'magnet']);
    const list = await ok(['-l']);
    const rows = list.split('\n').filter((line) => /^\s+\d+\*?\s/.test(line));
    assert.equal(rows.length, 2, list);
    assert.match(rows[0] ?? '', /^\s+1\s+0%\s+None\s+.*\s+album$/);
    assert.match(rows[1] ?? '', /^\s+2\s+n\/a\s+.*\s+from-magnet$/);
    assert.match(list, /^Sum:/m);
  });

  test('-i, -if, -ip, -it (trackers), -ic (pieces) show the details', async (t) => {
    if (!available) return t.skip('transmission-remote not installed');
    const info = await ok(['-t', '1', '-i']);
    assert.match(info, /Id: 1\n/);
    assert.match(info, /Name: album\n/);
    assert.match(info, new RegExp(`Hash: ${api.torrent(1).hash}`));
    assert.match(info, /Total size: 500\.0 kB/);
    assert.match(info, /Comment: a test album/);
    assert.match(info, /Piece Count: 31/);
    const files = await ok(['-t', '1', '-if']);
    assert.match(files, /album \(2 files\)/);
    assert.match(files, /0:\s+0% Normal\s+Yes\s+300\.0 kB\s+album\/one\.flac/);
    assert.match(files, /1:\s+0% Normal\s+Yes\s+200\.0 kB\s+album\/two\.flac/);
    api.torrent(1).peerList = [
      {
        address: '127.0.0.99',
        port: 6881,
        clientName: 'Transmission 3.00',
        progress: 0.5,
        rateToClient: 2000,
        rateToPeer: 0,
        isEncrypted: true,
        isUtp: false,
        isIncoming: false,
        clientIsChoked: false,
        clientIsInterested: true,
        peerIsChoked: true,
        peerIsInterested: false,
      },
    ];
    const peers = await ok(['-t', '1', '-ip']);
    assert.match(peers, /127\.0\.0\.99\s+DE\s+50\.0\s+2\.0\s+0\.0\s+Transmission 3\.00/);
    api.torrent(1).trackerList = [
      {
        id: 0,
        tier: 0,
        announce: 'http://127.0.0.98:6969/announce',
        host: 'http://127.0.0.98:6969',
        lastAnnounceTime: Math.floor(Date.now() / 1000) - 60,
        lastAnnounceSucceeded: true,
        lastAnnounceResult: 'Success',
        lastAnnouncePeerCount: 7,
        nextAnnounceTime: Math.floor(Date.now() / 1000) + 1800,
        seederCount: 3,
        leecherCount: 4,
        downloadCount: 9,
      },
    ];
    const trackers = await ok(['-t', '1', '-it']);
    assert.match(trackers, /Tracker 0: http:\/\/127\.0\.0\.98:6969/);
    assert.match(trackers, /Got a list of 7 peers 1 minute/);
    assert.match(trackers, /Asking for more peers in (29|30) minutes/);
    assert.match(trackers, /Tracker had 3 seeders and 4 leechers 1 minute/);
    const pieces = await ok(['-t', '1', '-ic']);
    // 31 pieces, none verified: Transmission 3.00 prints one 0 per piece.
    assert.equal((pieces.match(/0/g) ?? []).length, 31, pieces);
  });

  test('-si and -st show the session', async (t) => {
    if (!available) return t.skip('transmission-remote not installed');
    const si = await ok(['-si']);
    assert.match(si, /Daemon version: 3\.00 \(Lodestone /);
    assert.match(si, /RPC version: 17/);
    assert.match(si, /Download directory: \/tmp\/lodestone-test-downloads/);
    assert.doesNotMatch(si, /s3cret|alice/);
    const st = await ok(['-st']);
    assert.match(st, /CURRENT SESSION/);
    assert.match(st, /Started 3 times/);
  });

  test('-S/-s, -G/-g, -d/-u/-as, -v, --move', async (t) => {
    if (!available) return t.skip('transmission-remote not installed');
    await ok(['-t', '1', '-S']);
    assert.equal(api.torrent(1).status, 'stopped');
    await ok(['-t', '1', '-s']);
    assert.equal(api.torrent(1).status, 'downloading');
    await ok(['-t', '1', '-G', '1']);
    assert.deepEqual(
      api.torrent(1).fileList.map((f) => f.wanted),
      [true, false],
    );
    await ok(['-t', '1', '-g', 'all']);
    assert.deepEqual(
      api.torrent(1).fileList.map((f) => f.wanted),
      [true, true],
    );
    await ok(['-t', '1', '-d', '250']);
    assert.equal(api.torrent(1).settings.downloadLimit, 250_000);
    await ok(['-u', '300']);
    await ok(['-as']);
    assert.equal(api.settings()['speed-limit-up'], 300);
    assert.equal(api.settings()['speed-limit-up-enabled'], true);
    assert.equal(api.settings()['alt-speed-enabled'], true);
    await ok(['-t', '1', '-v']);
    assert.deepEqual(api.callsOf('verify'), [[[1]]]);
    await ok(['-t', '1', '--move', '/tmp/elsewhere']);
    assert.deepEqual(api.callsOf('setLocation'), [[[1], '/tmp/elsewhere', { move: true }]]);
    assert.equal(api.torrent(1).downloadDir, '/tmp/elsewhere');
  });

  test('-r and --remove-and-delete remove', async (t) => {
    if (!available) return t.skip('transmission-remote not installed');
    await ok(['-t', '2', '-r']);
    await ok(['-t', '1', '--remove-and-delete']);
    assert.deepEqual(api.callsOf('remove'), [
      [[2], { deleteData: false }],
      [[1], { deleteData: true }],
    ]);
    const list = await ok(['-l']);
    assert.equal(list.split('\n').filter((line) => /^\s+\d+\*?\s/.test(line)).length, 0, list);
  });
});
