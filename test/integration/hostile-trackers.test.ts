/**
 * Hostile trackers, end to end with the CLI (issue 15, "Thousands of trackers"): a torrent
 * lists 3,000 HTTP trackers that accept the connection and never answer, plus one working
 * tracker in its third tier that lists a Lodestone seeder. The download completes, at most a
 * few announces are in flight at any moment (it used to open all 3,000 at once and die with
 * EMFILE), stderr carries no MaxListenersExceededWarning and no EMFILE, and the process exits
 * promptly (the `stopped` announces at shutdown are bounded too). All on loopback.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { DEFAULT_MAX_ANNOUNCES_IN_FLIGHT } from '../../src/tracker/announcer.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

const SILENT_TRACKERS = 3000;

interface TrackerFarm {
  base: string;
  /** Announces to silent paths whose connection is still open, now and at most. */
  silentOpen: number;
  silentPeak: number;
  silentRequests: number;
  okRequests: number;
  close(): Promise<void>;
}

/** One HTTP server for every tracker URL: `/ok` lists `peer`, every other path never answers. */
async function startTrackerFarm(host: string, peer: { host: string; port: number }): Promise<TrackerFarm> {
  const sockets = new Set<Socket>();
  const compact = Buffer.alloc(6);
  for (const [i, part] of peer.host.split('.').entries()) compact[i] = Number(part);
  compact.writeUInt16BE(peer.port, 4);
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/ok')) {
      farm.okRequests++;
      res.end(encode({ interval: 1800, peers: compact }));
      return;
    }
    farm.silentRequests++;
    farm.silentOpen++;
    farm.silentPeak = Math.max(farm.silentPeak, farm.silentOpen);
    req.socket.once('close', () => farm.silentOpen--);
    // Never answer: the connection stays open until the client gives up.
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const farm: TrackerFarm = {
    base: `http://${host}:${(server.address() as AddressInfo).port}`,
    silentOpen: 0,
    silentPeak: 0,
    silentRequests: 0,
    okRequests: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return farm;
}

test('download with 3,000 silent trackers and one working one: completes, few sockets, no warning', {
  timeout: 90_000,
}, async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'lodestone-hostile-trackers-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const data = randomBytes(3 * 1024 * 1024 + 777);
  const pieceLength = 64 * 1024;
  const info = {
    name: 'payload.bin',
    'piece length': pieceLength,
    pieces: pieceHashesOf(data, pieceLength),
    length: data.length,
  };

  const seederHost = nextLoopbackAddress();
  const trackerHost = nextLoopbackAddress();
  // The seeder needs the torrent's info only; it does not announce.
  const seeder = await startLodestoneSeeder({
    meta: parseTorrent(encode({ info })),
    onDisk: data,
    dir: join(work, 'seed'),
    host: seederHost,
  });
  t.after(() => seeder.client.close());
  const farm = await startTrackerFarm(trackerHost, seeder.address);
  t.after(() => farm.close());

  // Distinct URLs on one server (a URL listed twice is announced once): tiers of one tracker
  // each, the working one third, so it is reached in the first round whatever the bound.
  const silent = Array.from({ length: SILENT_TRACKERS }, (_, i) => [`${farm.base}/silent/${i}/announce`]);
  const tiers = [silent[0]!, silent[1]!, [`${farm.base}/ok/announce`], ...silent.slice(2)];
  const torrentPath = join(work, 'many-trackers.torrent');
  await writeFile(torrentPath, encode({ announce: tiers[0]![0]!, 'announce-list': tiers, info }));

  const out = join(work, 'out');
  const started = Date.now();
  const run = runCli([
    'download',
    torrentPath,
    '-o',
    out,
    '-p',
    '0',
    '--bind',
    nextLoopbackAddress(),
    '--json',
  ]);
  t.after(() => run.stop());
  const { code, stderr } = await run.exited;
  const seconds = (Date.now() - started) / 1000;

  assert.equal(code, 0, `exit code (stderr: ${stderr.slice(0, 2000)})`);
  assert.ok((await readFile(join(out, 'payload.bin'))).equals(data), 'downloaded bytes match');
  assert.ok(farm.okRequests >= 1, 'the working tracker was asked');
  assert.doesNotMatch(stderr, /MaxListenersExceededWarning|EMFILE|too many open files/i);
  assert.ok(farm.silentRequests >= 2, `silent trackers were tried (${farm.silentRequests})`);
  assert.ok(
    farm.silentPeak <= DEFAULT_MAX_ANNOUNCES_IN_FLIGHT,
    `at most ${DEFAULT_MAX_ANNOUNCES_IN_FLIGHT} silent announces open at once, saw ${farm.silentPeak}`,
  );
  // Shutdown aborts what is in flight and bounds the `stopped` announces (3 s): no long tail.
  assert.ok(seconds < 60, `finished in ${seconds.toFixed(1)} s`);
});
