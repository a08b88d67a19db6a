/**
 * `node dist/bench/many-peers.js`: issue 18's "one torrent with 200 connected peers" benchmark.
 * A Lodestone leecher (`lodestone download`, as a user runs it) downloads one torrent from 20
 * peers and from 200 peers, alternating the order by round; the peers are real seeders
 * (Transmission, aria2, qBittorrent by default, each on its own 127.x address) plus scripted
 * plaintext seeders (bench/piece-seeders.ts, one process, each peer on its own 127.x address).
 * The leecher gets every peer with `--peer` (no tracker, no DHT) and `--max-peers` above the count.
 * Printed per round: peers connected, MiB/s (spawn → every piece verified) and the leecher's CPU
 * seconds per GiB; the target is 200 peers within 15% of 20 peers on both. Loopback only; every
 * process is stopped by PID and every temp folder removed, also on Ctrl-C.
 *
 * Not wired into `npm run bench` yet: the row's numbers are printed, not added to the report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startOpentracker } from '../test/helpers/opentracker.js';
import { nextLoopbackAddress } from '../test/helpers/real-clients/index.js';
import { timedDownload } from './clients.js';
import { Cleanup, formatSize, GiB, MiB, parseSize } from './measure.js';
import { rotate } from './phases.js';
import { prepareTorrent, SEEDER_KINDS, type SeederKind, startSeeder } from './swarm.js';

const SEEDERS = fileURLToPath(new URL('./piece-seeders.js', import.meta.url));

const { values: v } = parseArgs({
  options: {
    size: { type: 'string', default: '256MiB' },
    rounds: { type: 'string', default: '2' },
    peers: { type: 'string', default: '20,200' },
    real: { type: 'string', default: 'transmission,aria2,qbittorrent' },
    timeout: { type: 'string', default: '600' },
  },
});
const size = parseSize(v.size);
const rounds = Number(v.rounds);
const cases = v.peers.split(',').map(Number);
const realKinds = v.real === '' ? [] : (v.real.split(',') as SeederKind[]);
for (const kind of realKinds) if (!SEEDER_KINDS.includes(kind)) throw new Error(`unknown seeder ${kind}`);
const timeoutMs = Number(v.timeout) * 1000;
const log = (text: string) => process.stderr.write(`${text}\n`);

const cleanup = new Cleanup();
process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));

/** Starts the scripted seeders' process on `count` fresh loopback addresses. */
async function startScripted(dataPath: string, infoHashHex: string, pieceLength: number, count: number) {
  const hosts = Array.from({ length: count }, () => nextLoopbackAddress());
  const child: ChildProcess = spawn(
    process.execPath,
    [SEEDERS, dataPath, infoHashHex, String(pieceLength), ...hosts],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  cleanup.add(`scripted seeders (pid ${child.pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
  return new Promise<{ host: string; port: number }[]>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined)
        resolve((JSON.parse(line) as { peers: { host: string; port: number }[] }).peers);
    });
    child.once('exit', (code) => reject(new Error(`scripted seeders exited with ${code}`)));
  });
}

interface Result {
  round: number;
  peers: number;
  connected: number;
  mibPerSecond: number;
  cpuPerGiB: number;
}

const root = await mkdtemp(join(os.tmpdir(), 'lodestone-many-peers-'));
cleanup.add(`work folder ${root}`, () => rm(root, { recursive: true, force: true }));
const results: Result[] = [];
try {
  // The real seeders start as in the bench's swarm (announcing); the leecher uses only --peer.
  const tracked = await startOpentracker({ infoHashes: [] });
  cleanup.add(`opentracker (pid ${tracked.pid})`, () => tracked.stop());
  const torrent = await prepareTorrent({
    root,
    size,
    fileCount: 1,
    pieceLengthExp: 18,
    trackerUrl: tracked.httpUrl,
  });
  await tracked.addInfoHash(torrent.facts.infoHashHex);
  const real = [];
  for (const kind of realKinds) {
    log(`starting ${kind} seeder`);
    real.push(await startSeeder(kind, torrent, tracked, cleanup, timeoutMs));
  }
  const most = Math.max(...cases);
  const dataPath = join(torrent.dataDir, torrent.expected[0]!.path);
  log(`starting ${most - real.length} scripted seeders`);
  const scripted = await startScripted(
    dataPath,
    torrent.facts.infoHashHex,
    torrent.facts.pieceLength,
    most - real.length,
  );
  const all = [...real.map((s) => ({ host: s.address, port: s.port })), ...scripted];
  for (let round = 0; round < rounds; round++) {
    for (const count of rotate(cases, round)) {
      const peers = all.slice(0, count);
      log(`round ${round + 1}: ${count} peers`);
      const m = await timedDownload({
        kind: 'lodestone',
        source: 'torrent',
        torrent,
        workDir: root,
        cleanup,
        timeoutMs,
        lodestoneArgs: [
          '--no-trackers',
          '--no-dht',
          '--no-utp',
          '--encryption',
          'allow',
          '--max-peers',
          String(count + 10),
          ...peers.flatMap((p) => ['--peer', `${p.host}:${p.port}`]),
        ],
      });
      const connected = Object.values(m.peersByTransport ?? {}).reduce((a, b) => a + b, 0);
      results.push({
        round: round + 1,
        peers: count,
        connected,
        mibPerSecond: size / MiB / m.wallSeconds,
        cpuPerGiB: m.leecher.cpuSeconds / (size / GiB),
      });
      const r = results.at(-1)!;
      log(
        `  ${connected} connected, ${r.mibPerSecond.toFixed(1)} MiB/s, ${r.cpuPerGiB.toFixed(2)} CPU s/GiB`,
      );
    }
  }
} finally {
  const problems = await cleanup.run();
  for (const problem of problems) log(`cleanup: ${problem}`);
}

const lines = [
  `One torrent of ${formatSize(size)} (256 KiB pieces), real seeders: ${realKinds.join(', ') || 'none'}, the rest scripted.`,
  '',
  '| Round | Peers given | Connected | MiB/s | CPU s/GiB |',
  '| ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.round} | ${r.peers} | ${r.connected} | ${r.mibPerSecond.toFixed(1)} | ${r.cpuPerGiB.toFixed(2)} |`,
  ),
];
const [few, many] = [Math.min(...cases), Math.max(...cases)];
for (let round = 1; round <= rounds; round++) {
  const a = results.find((r) => r.round === round && r.peers === few);
  const b = results.find((r) => r.round === round && r.peers === many);
  if (a && b)
    lines.push(
      '',
      `Round ${round}: ${many} ÷ ${few} peers: throughput ${(b.mibPerSecond / a.mibPerSecond).toFixed(2)}, CPU/GiB ${(b.cpuPerGiB / a.cpuPerGiB).toFixed(2)} (target: throughput ≥ 0.85, CPU ≤ 1.15)`,
    );
}
process.stdout.write(`${lines.join('\n')}\n`);
