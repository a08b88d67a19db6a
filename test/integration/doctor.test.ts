/**
 * `lodestone doctor` end to end (issue 17), the CLI bundle on loopback: a healthy swarm (a
 * Lodestone seeder listed by an in-process HTTP tracker), a magnet whose only tracker is down,
 * a torrent whose only peer drops every connection (after and before the handshake), and a peer
 * serving another torrent. The verdicts, the exit codes and the time bound are what is checked.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { startHostilePeer } from '../helpers/hostile-peer.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { startOpentracker } from '../helpers/opentracker.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { requireTool } from '../helpers/tools.js';

const PIECE = 16 * 1024;

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-doctor-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A torrent of `data`, written to `dir/x.torrent`; its bytes and path. */
async function torrentOf(
  dir: string,
  data: Uint8Array,
  announce?: string,
): Promise<{ path: string; bytes: Buffer }> {
  const bytes = encode({
    ...(announce ? { announce } : {}),
    info: { name: 'x.bin', 'piece length': PIECE, pieces: pieceHashesOf(data, PIECE), length: data.length },
  });
  const path = join(dir, 'x.torrent');
  await writeFile(path, bytes);
  return { path, bytes };
}

/** An HTTP tracker listing `peer` (compact), recording the `event` of every announce. */
async function startTracker(
  t: TestContext,
  host: string,
  peer: { host: string; port: number },
): Promise<{ url: string; events: string[] }> {
  const events: string[] = [];
  const compact = Buffer.alloc(6);
  for (const [i, part] of peer.host.split('.').entries()) compact[i] = Number(part);
  compact.writeUInt16BE(peer.port, 4);
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    events.push(new URL(req.url ?? '/', 'http://x').searchParams.get('event') ?? '');
    res.end(encode({ interval: 1800, complete: 1, incomplete: 0, peers: compact }));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { url: `http://${host}:${(server.address() as AddressInfo).port}/announce`, events };
}

/** A loopback port nothing listens on. */
async function closedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface DoctorJson extends CliEvent {
  sources: { kind: string; label: string; status: string; peers: number; error?: string }[];
  peers: {
    address: string;
    handshake: boolean;
    failure?: string;
    seeder?: boolean;
    encryption?: string;
    transport?: string;
    client?: string;
  }[];
  verdict: { code: string; ok: boolean; text: string };
  durationMs: number;
}

async function doctor(
  t: TestContext,
  args: string[],
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  report: DoctorJson | undefined;
  ms: number;
}> {
  const started = Date.now();
  const run = runCli(['doctor', ...args]);
  t.after(() => run.stop());
  const { code, stdout, stderr } = await run.exited;
  const report = run.events.find((e) => e.type === 'doctor') as DoctorJson | undefined;
  return { code, stdout, stderr, report, ms: Date.now() - started };
}

test('doctor on a healthy swarm: the tracker answered, the seeder is reachable, verdict healthy, exit 0', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const data = randomBytes(5 * PIECE + 100);
  const seederHost = nextLoopbackAddress();
  const seeder = await startLodestoneSeeder({
    meta: parseTorrent((await torrentOf(dir, data)).bytes),
    onDisk: data,
    dir: join(dir, 'seed'),
    host: seederHost,
  });
  t.after(() => seeder.client.close());
  const tracker = await startTracker(t, nextLoopbackAddress(), seeder.address);
  const { path } = await torrentOf(dir, data, tracker.url);
  const { code, stderr, report, ms } = await doctor(t, [
    path,
    '--json',
    '--time',
    '20s',
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(code, 0, stderr);
  assert.ok(report, 'one JSON report');
  assert.equal(report.verdict.code, 'healthy', report.verdict.text);
  assert.equal(report.verdict.ok, true);
  assert.match(
    report.verdict.text,
    /^1 peer reachable \(of 1 found\), 1 seeder; the download should start\.$/,
  );
  const trackerSource = report.sources.find((s) => s.kind === 'tracker');
  assert.deepEqual(
    { label: trackerSource?.label, status: trackerSource?.status, peers: trackerSource?.peers },
    { label: tracker.url, status: 'answered', peers: 1 },
  );
  assert.deepEqual(
    report.sources.filter((s) => s.kind === 'dht' || s.kind === 'pex').map((s) => s.status),
    ['not-used', 'no-answer'],
    'the seeder offers PEX but has no other peer to name',
  );
  const [peer] = report.peers;
  assert.equal(report.peers.length, 1);
  assert.equal(peer?.address, `${seeder.address.host}:${seeder.address.port}`);
  assert.equal(peer?.handshake, true);
  assert.equal(peer?.failure, undefined);
  assert.equal(peer?.seeder, true);
  assert.equal(peer?.encryption, 'rc4', 'the default policy (prefer) got an encrypted connection');
  assert.match(peer?.client ?? '', /^Lodestone/);
  assert.deepEqual(tracker.events, ['started', 'stopped'], 'told the tracker we left');
  // Nothing left to wait for: it ends long before --time.
  assert.ok(ms < 15_000, `took ${ms} ms`);
  assert.equal(seeder.session.stats().uploadedBytes, 0, 'no piece data was requested');

  // The human report says the same.
  const human = await doctor(t, [path, '--time', '20s', '--bind', nextLoopbackAddress(), '--no-utp']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^Sources$/m);
  assert.match(human.stdout, new RegExp(`tracker ${tracker.url.replace(/[.?]/g, '\\$&')} +answered: 1 peer`));
  assert.match(human.stdout, /DHT +off \(--no-dht\)/);
  assert.match(human.stdout, /PEX +1 peer offers PEX, no list came in time/);
  assert.match(
    human.stdout,
    new RegExp(`${seeder.address.host}:${seeder.address.port} +ok +tcp +rc4 +Lodestone`),
  );
  assert.match(
    human.stdout,
    /^Verdict: 1 peer reachable \(of 1 found\), 1 seeder; the download should start\.$/m,
  );

  // A magnet naming the seeder (x.pe): the peer offers the metadata.
  const magnet = `magnet:?xt=urn:btih:${seeder.session.meta.infoHashHex}&x.pe=${seeder.address.host}:${seeder.address.port}`;
  const fromMagnet = await doctor(t, [magnet, '--json', '--time', '20s', '--bind', nextLoopbackAddress()]);
  assert.equal(fromMagnet.code, 0, fromMagnet.stderr);
  assert.equal(fromMagnet.report?.verdict.code, 'healthy', fromMagnet.report?.verdict.text);
  assert.match(fromMagnet.report?.verdict.text ?? '', /1 with the metadata/);
  assert.deepEqual(
    fromMagnet.report?.sources.map((s) => [s.kind, s.status, s.peers]),
    [
      ['magnet-peers', 'answered', 1],
      ['dht', 'not-used', 0],
      ['pex', 'no-answer', 0],
    ],
  );
});

test('doctor on a magnet whose only tracker is down: names the tracker failure and 0 peers, exit 6, within --time', {
  timeout: 60_000,
}, async (t) => {
  const host = nextLoopbackAddress();
  const port = await closedPort(host);
  const url = `http://${host}:${port}/announce`;
  const magnet = `magnet:?xt=urn:btih:${randomBytes(20).toString('hex')}&tr=${encodeURIComponent(url)}`;
  const { code, stderr, report, ms } = await doctor(t, [
    magnet,
    '--json',
    '--time',
    '3s',
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(code, 6, stderr);
  assert.ok(report);
  assert.equal(report.verdict.code, 'trackers-failed');
  assert.match(
    report.verdict.text,
    /^No tracker answered \(1 tracker: 1 failed \([^)]*ECONNREFUSED[^)]*\)\)/,
  );
  assert.match(report.verdict.text, /0 peers were found/);
  assert.match(report.verdict.text, /DHT off \(--no-dht\); PEX no peer connected to ask/);
  assert.equal(report.sources[0]?.status, 'failed');
  assert.equal(report.peers.length, 0);
  assert.ok(ms < 3000 + 5000, `ended within the bound and its grace (${ms} ms)`);

  // A tracker that accepts the connection and never answers: the bound is what ends it.
  const silent = http.createServer(() => {});
  const sockets = new Set<Socket>();
  silent.on('connection', (s) => {
    sockets.add(s);
  });
  const silentHost = nextLoopbackAddress();
  await new Promise<void>((resolve) => silent.listen(0, silentHost, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        silent.close(() => resolve());
      }),
  );
  const silentUrl = `http://${silentHost}:${(silent.address() as AddressInfo).port}/announce`;
  const hung = await doctor(t, [
    `magnet:?xt=urn:btih:${randomBytes(20).toString('hex')}&tr=${encodeURIComponent(silentUrl)}`,
    '--json',
    '--time',
    '2s',
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(hung.code, 6, hung.stderr);
  assert.equal(hung.report?.sources[0]?.status, 'no-answer');
  assert.match(hung.report?.verdict.text ?? '', /1 did not answer in time/);
  assert.ok(hung.ms >= 2000 && hung.ms < 2000 + 5000, `ended at the bound (${hung.ms} ms)`);
});

test('doctor on a torrent whose only peer drops every connection after the handshake: verdict dropped', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const data = randomBytes(3 * PIECE);
  const { path, bytes } = await torrentOf(dir, data);
  const hostile = await startHostilePeer({
    host: nextLoopbackAddress(),
    infoHash: parseTorrent(bytes).infoHash,
    onConnected: (peer) => peer.socket.destroy(),
  });
  t.after(() => hostile.close());
  const { code, stderr, report } = await doctor(t, [
    path,
    '--json',
    '--time',
    '10s',
    '--peer',
    hostile.key,
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(code, 6, stderr);
  assert.ok(report);
  assert.equal(report.verdict.code, 'dropped', report.verdict.text);
  assert.match(report.verdict.text, /^1 peer found but it dropped the connection/);
  assert.equal(report.peers[0]?.failure, 'dropped');
  assert.equal(report.peers[0]?.handshake, true);
  assert.ok(hostile.connections.length >= 1);

  // The same peer speaks no encryption: with --encryption require, the encryption handshake fails.
  const required = await doctor(t, [
    path,
    '--json',
    '--time',
    '10s',
    '--encryption',
    'require',
    '--peer',
    hostile.key,
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(required.code, 6, required.stderr);
  assert.equal(required.report?.verdict.code, 'encryption-mismatch', required.report?.verdict.text);
  assert.equal(required.report?.peers[0]?.failure, 'encryption-failed');
});

test('doctor on a peer that closes every connection at once, and on one serving another torrent', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const { path, bytes } = await torrentOf(dir, randomBytes(3 * PIECE));
  const closerHost = nextLoopbackAddress();
  const closer = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => closer.listen(0, closerHost, resolve));
  t.after(() => new Promise<void>((resolve) => closer.close(() => resolve())));
  const closerKey = `${closerHost}:${(closer.address() as AddressInfo).port}`;
  const dropped = await doctor(t, [
    path,
    '--json',
    '--time',
    '10s',
    '--peer',
    closerKey,
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(dropped.code, 6, dropped.stderr);
  assert.equal(dropped.report?.verdict.code, 'dropped', dropped.report?.verdict.text);
  assert.deepEqual(
    dropped.report?.peers.map((p) => [p.address, p.handshake, p.failure]),
    [[closerKey, false, 'dropped']],
  );

  const other = await startHostilePeer({
    host: nextLoopbackAddress(),
    infoHash: parseTorrent(bytes).infoHash,
    handshake: 'wrong-info-hash',
  });
  t.after(() => other.close());
  const wrong = await doctor(t, [
    path,
    '--json',
    '--time',
    '10s',
    '--peer',
    other.key,
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(wrong.code, 6, wrong.stderr);
  assert.equal(wrong.report?.verdict.code, 'wrong-info-hash', wrong.report?.verdict.text);
  assert.equal(wrong.report?.peers[0]?.failure, 'wrong-info-hash');
});

test('download --verbose shows the same per-source counters, with dial failures by reason', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const data = randomBytes(4 * PIECE + 1);
  const seeder = await startLodestoneSeeder({
    meta: parseTorrent((await torrentOf(dir, data)).bytes),
    onDisk: data,
    dir,
    host: nextLoopbackAddress(),
  });
  t.after(() => seeder.client.close());
  const tracker = await startTracker(t, nextLoopbackAddress(), seeder.address);
  const { path } = await torrentOf(dir, data, tracker.url);
  const deadHost = nextLoopbackAddress();
  const dead = `${deadHost}:${await closedPort(deadHost)}`;
  const run = runCli([
    'download',
    path,
    '-o',
    join(dir, 'out'),
    '-p',
    '0',
    '--bind',
    nextLoopbackAddress(),
    '--no-utp',
    '--peer',
    dead,
    '--verbose',
  ]);
  t.after(() => run.stop());
  const { code, stderr } = await run.exited;
  assert.equal(code, 0, stderr);
  assert.match(stderr, new RegExp(`peer ${dead.replace(/\./g, '\\.')} not connected \\(refused\\): `));
  const line =
    /^discovery: trackers: 1 answered \(1 peers\), 0 failed; peers: (\d+) tried, 1 connected, failed: (\d+) refused$/m.exec(
      stderr,
    );
  assert.ok(line, stderr);
  // The dead peer may be retried after its back-off: each attempt counts, every one refused.
  assert.ok(Number(line[2]) >= 1);
  assert.equal(Number(line[1]), 1 + Number(line[2]));
});

test('doctor on a peer that accepts and never answers: timed out, and the process ends at --time', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const { path } = await torrentOf(dir, randomBytes(2 * PIECE));
  // Accepts, reads everything, never writes nor closes: our encryption handshake waits on it.
  const sockets = new Set<Socket>();
  const host = nextLoopbackAddress();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, host, resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        silent.close(() => resolve());
      }),
  );
  const key = `${host}:${(silent.address() as AddressInfo).port}`;
  const { code, stderr, report, ms } = await doctor(t, [
    path,
    '--json',
    '--time',
    '3s',
    '--peer',
    key,
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(code, 6, stderr);
  assert.equal(report?.verdict.code, 'unreachable', report?.verdict.text);
  assert.match(report?.verdict.text ?? '', /^1 peer found but it timed out/);
  assert.equal(report?.peers[0]?.failure, 'timeout');
  assert.ok(ms >= 3000 && ms < 3000 + 4000, `ended at the bound (${ms} ms)`);
});

test('doctor with a real tracker (opentracker) in a UDP tier and an HTTP tier, a Lodestone seeder announcing to it', {
  timeout: 60_000,
}, async (t) => {
  if (!requireTool(t, 'opentracker')) return;
  const dir = await scratch(t);
  const data = randomBytes(3 * PIECE + 5);
  const tracker = await startOpentracker({ host: nextLoopbackAddress(), infoHashes: [] });
  t.after(() => tracker.stop());
  const bytes = encode({
    announce: tracker.udpUrl,
    'announce-list': [[tracker.udpUrl], [tracker.httpUrl]],
    info: { name: 'x.bin', 'piece length': PIECE, pieces: pieceHashesOf(data, PIECE), length: data.length },
  });
  const path = join(dir, 'x.torrent');
  await writeFile(path, bytes);
  await writeFile(join(dir, 'x.bin'), data);
  const meta = parseTorrent(bytes);
  await tracker.addInfoHash(meta.infoHashHex);
  const seederHost = nextLoopbackAddress();
  const seeder = new Client({ hashWorkers: 1, port: 0, bindAddress: seederHost });
  t.after(() => seeder.close());
  const port = await seeder.listen();
  await seeder.add(meta, { path: dir, seed: true }).start();
  await tracker.waitForPeer(meta.infoHashHex, seederHost, port, 15_000);

  const { code, stderr, report } = await doctor(t, [
    path,
    '--json',
    '--time',
    '20s',
    '--bind',
    nextLoopbackAddress(),
  ]);
  assert.equal(code, 0, stderr);
  assert.ok(report);
  assert.equal(report.verdict.code, 'healthy', report.verdict.text);
  const trackers = report.sources.filter((s) => s.kind === 'tracker');
  assert.deepEqual(
    trackers.map((s) => [s.label, s.status]),
    [
      [tracker.udpUrl, 'answered'],
      [tracker.httpUrl, 'answered'],
    ],
  );
  // The seeder, and perhaps ourselves (both announces run at once): never probed.
  for (const source of trackers) assert.ok(source.peers >= 1 && source.peers <= 2, `${source.peers} peers`);
  assert.equal(report.peers.length, 1, 'the same seeder from both trackers is probed once, ourselves never');
  const [peer] = report.peers as (DoctorJson['peers'][number] & { sources: string[] })[];
  assert.deepEqual([...(peer?.sources ?? [])].sort(), [tracker.httpUrl, tracker.udpUrl].sort());
  assert.equal(peer?.seeder, true);
});
