/**
 * The CLI when peers cannot be found: no peer source at all exits 5 at once, a magnet whose
 * metadata makes no progress exits 5 at --metadata-timeout with a summary of what was tried,
 * and a download with no peers and failing trackers says so instead of sitting silently.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { startScriptedPeer } from '../helpers/scripted-peer.js';

/** A loopback port nothing listens on (connections to it are refused). */
async function closedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function torrentFile(dir: string, announce: string | undefined): Promise<string> {
  const data = randomBytes(64 * 1024);
  const path = join(dir, 'x.torrent');
  await writeFile(
    path,
    encode({
      ...(announce ? { announce } : {}),
      info: {
        name: 'x.bin',
        'piece length': 16 * 1024,
        pieces: pieceHashesOf(data, 16 * 1024),
        length: data.length,
      },
    }),
  );
  return path;
}

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-cli-peers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('download --no-trackers without --peer exits 5 at once, naming the reason', {
  timeout: 30_000,
}, async (t) => {
  const dir = await scratch(t);
  const torrent = await torrentFile(dir, 'http://127.0.0.1:1/announce');
  const run = runCli([
    'download',
    torrent,
    '-o',
    join(dir, 'out'),
    '--no-trackers',
    '-p',
    '0',
    '--bind',
    '127.0.0.41',
  ]);
  t.after(() => run.stop());
  const { code, stderr } = await run.exited;
  assert.equal(code, 5, stderr);
  assert.match(
    stderr,
    /lodestone: error: no way to find peers: its tracker is turned off \(--no-trackers\), no peer addresses \(--peer\) were given/,
  );
});

test('download of a torrent without trackers, or a bare magnet, exits 5 at once', {
  timeout: 30_000,
}, async (t) => {
  const dir = await scratch(t);
  const torrent = await torrentFile(dir, undefined);
  const bare = runCli(['download', torrent, '-o', join(dir, 'out'), '-p', '0', '--bind', '127.0.0.41']);
  t.after(() => bare.stop());
  const magnet = runCli([
    'download',
    `magnet:?xt=urn:btih:${'cd'.repeat(20)}`,
    '-o',
    join(dir, 'out'),
    '-p',
    '0',
    '--json',
  ]);
  t.after(() => magnet.stop());
  const [a, b] = await Promise.all([bare.exited, magnet.exited]);
  assert.equal(a.code, 5, a.stderr);
  assert.match(a.stderr, /no way to find peers: the torrent has no trackers/);
  assert.equal(b.code, 5, b.stderr);
  assert.match(
    b.stderr,
    /no way to find peers: the magnet link has no trackers, no peer addresses \(x\.pe or --peer\)/,
  );
  assert.ok(magnet.events.some((e) => e.type === 'error' && e.code === 'LODESTONE_ERR_NO_PEER_SOURCE'));
});

test('metadata --metadata-timeout 2s against a silent peer and a dead tracker exits 5 with what was tried', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const infoHash = randomBytes(20);
  // Offers the metadata, then never answers a request.
  const mute = await startScriptedPeer({ host: '127.0.0.42', infoHash, metadataSize: 40_000 });
  t.after(() => mute.close());
  const trackerPort = await closedPort('127.0.0.43');
  const magnet =
    `magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=127.0.0.42:${mute.port}` +
    `&tr=${encodeURIComponent(`http://127.0.0.43:${trackerPort}/announce`)}`;
  const started = Date.now();
  const run = runCli([
    'metadata',
    magnet,
    '-o',
    join(dir, 'm.torrent'),
    '-p',
    '0',
    '--bind',
    '127.0.0.44',
    '--metadata-timeout',
    '2s',
    // The scripted peer speaks no MSE (the metadata phase dials encrypted first by default).
    '--encryption',
    'disable',
  ]);
  t.after(() => run.stop());
  const { code, stderr } = await run.exited;
  assert.equal(code, 5, stderr);
  assert.match(
    stderr,
    /lodestone: error: metadata could not be fetched \(no progress for 2s\): 1 tracker \(0 answered, 1 failed: [^)]*ECONNREFUSED[^)]*\), 1 peer found, 1 connected/,
  );
  assert.ok(Date.now() - started < 20_000, 'gave up at the deadline');
});

test('download --metadata-timeout rejects a malformed duration with a usage error', {
  timeout: 30_000,
}, async (t) => {
  const run = runCli([
    'download',
    `magnet:?xt=urn:btih:${'cd'.repeat(20)}&x.pe=127.0.0.42:1`,
    '-p',
    '0',
    '--metadata-timeout',
    'soon',
  ]);
  t.after(() => run.stop());
  const { code, stderr } = await run.exited;
  assert.equal(code, 2, stderr);
  assert.match(stderr, /invalid --metadata-timeout "soon"/);
});

test('a download with no peers and a failing tracker says it is stalled, and why', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const trackerPort = await closedPort('127.0.0.45');
  const torrent = await torrentFile(dir, `http://127.0.0.45:${trackerPort}/announce`);
  const run = runCli(
    ['download', torrent, '-o', join(dir, 'out'), '--json', '-p', '0', '--bind', '127.0.0.46'],
    {
      env: { LODESTONE_STALL_NOTICE_MS: '500' },
    },
  );
  t.after(() => run.stop());
  const stalled = await run.waitFor((e) => e.type === 'stalled', 20_000);
  assert.equal(stalled.kind, 'no-peers');
  assert.match(String(stalled.reason), /^no peers yet \(\d+s\): 1 of 1 tracker failed \([^)]*ECONNREFUSED/);
  const progress = await run.waitFor((e) => e.type === 'progress' && typeof e.stalled === 'string', 20_000);
  assert.match(String(progress.stalled), /no peers yet/);
});
