/**
 * `node dist/bench/investigate.js`: where a Lodestone download's bytes come
 * from and where its memory goes, on the benchmark's swarm. It builds the
 * same loopback swarm as `npm run bench` (mktorrent, opentracker, real
 * seeders), then runs `bench/probe-leecher.ts` (the CLI's library calls with
 * the CLI's Node flags) for each size and round, and prints per round:
 * MiB/s, VmHWM, the peak of V8 heap / array buffers / requests in flight,
 * and each seeder's share of the bytes with the moment it stopped sending.
 * Raw samples go to --out as JSON lines. Counts and memory are what to read
 * here; timings are noisy on a shared machine and the sampler costs CPU.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLI_NODE_ENV, CLI_NODE_FLAGS } from '../src/cli/node-flags.js';
import { safeCliArgs } from '../test/helpers/cli-args.js';
import { startOpentracker } from '../test/helpers/opentracker.js';
import { nextLoopbackAddress } from '../test/helpers/real-clients/index.js';
import { Cleanup, delay, formatSize, MiB, parseSize } from './measure.js';
import { prepareTorrent, SEEDER_KINDS, type SeederKind, startSeeder } from './swarm.js';

const PROBE = fileURLToPath(new URL('./probe-leecher.js', import.meta.url));
const CLI = fileURLToPath(new URL('../cli/lodestone.js', import.meta.url));

interface PeerSample {
  key: string;
  client?: string;
  received: number;
  inFlight: number;
}
interface Sample {
  type: string;
  ms: number;
  verified: number;
  VmHWM: number;
  VmRSS: number;
  RssAnon: number;
  heapUsed: number;
  arrayBuffers: number;
  peers: PeerSample[];
  [field: string]: unknown;
}

const { values: v } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1GiB,4GiB' },
    runs: { type: 'string', default: '3' },
    seeders: { type: 'string', default: 'aria2,qbittorrent,transmission' },
    interval: { type: 'string', default: '250' },
    settle: { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench-results/investigate.jsonl' },
    /** 'probe': the sampling library leecher; 'cli': `lodestone download` (no --seed) under /usr/bin/time. */
    leecher: { type: 'string', default: 'probe' },
  },
});
const sizes = v.sizes.split(',').map((text) => parseSize(text));
const runs = Number(v.runs);
const seederKinds = v.seeders.split(',') as SeederKind[];
for (const kind of seederKinds) if (!SEEDER_KINDS.includes(kind)) throw new Error(`unknown seeder ${kind}`);
const log = (text: string) => process.stderr.write(`${text}\n`);

const cleanup = new Cleanup();
process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));
const raw = createWriteStream(v.out);

async function probe(torrentPath: string, workDir: string, seederNames: Map<string, string>, label: string) {
  const outDir = await mkdtemp(join(workDir, 'probe-'));
  const child = spawn(
    process.execPath,
    [...CLI_NODE_FLAGS, PROBE, torrentPath, outDir, nextLoopbackAddress(), v.interval],
    {
      env: { ...process.env, ...CLI_NODE_ENV },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const stop = cleanup.add(`probe (pid ${child.pid})`, async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(0)));
    await rm(outDir, { recursive: true, force: true });
  });
  const samples: Sample[] = [];
  let partial = '';
  const done = new Promise<Sample>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const text of lines) {
        const event = JSON.parse(text) as Sample;
        raw.write(`${JSON.stringify({ label, ...event })}\n`);
        if (event.type === 'sample') samples.push(event);
        if (event.type === 'done') resolve(event);
        if (event.type === 'error') reject(new Error(String(event.message)));
      }
    });
    child.once('exit', (code) => reject(new Error(`probe exited with ${code}`)));
  });
  const timeout = setTimeout(() => child.kill('SIGTERM'), 600_000);
  try {
    const end = await done;
    const last = samples.at(-1)!;
    const total = last.peers.reduce((sum, peer) => sum + peer.received, 0);
    const name = (key: string) => seederNames.get(key.replace(/:\d+$/, '')) ?? key;
    // When each seeder sent its last block: first sample at which its total stopped growing for good.
    const lastGrowth = new Map<string, number>();
    for (let i = 1; i < samples.length; i++) {
      for (const peer of samples[i]!.peers) {
        const before = samples[i - 1]!.peers.find((p) => p.key === peer.key)?.received ?? 0;
        if (peer.received > before) lastGrowth.set(peer.key, samples[i]!.ms);
      }
    }
    const peak = (field: keyof Sample) => Math.max(...samples.map((s) => Number(s[field] ?? 0)));
    const shares = last.peers
      .map(
        (peer) =>
          `${name(peer.key)} ${((peer.received / Math.max(total, 1)) * 100).toFixed(0)}% ` +
          `(last at ${((lastGrowth.get(peer.key) ?? 0) / 1000).toFixed(1)} s)`,
      )
      .join(', ');
    const size = last.verified;
    log(
      `${label}: ${(end.ms / 1000).toFixed(1)} s, ${(size / MiB / (end.ms / 1000)).toFixed(0)} MiB/s; ` +
        `VmHWM ${(Number(end.VmHWM) / MiB).toFixed(1)} MiB (RssAnon peak ${(peak('RssAnon') / MiB).toFixed(1)}, ` +
        `heapUsed peak ${(peak('heapUsed') / MiB).toFixed(1)}, arrayBuffers peak ${(peak('arrayBuffers') / MiB).toFixed(1)}, ` +
        `in flight peak ${String(end.peakInFlight)}, writing peak ${(Number(end.peakWriting) / MiB).toFixed(1)}, faults ${String(end.minorFaults)}); ${shares}`,
    );
  } finally {
    clearTimeout(timeout);
    await stop();
  }
}

/**
 * The measurement of the outside review: `lodestone download` as a user runs
 * it (exits when done), its peak RSS from `/usr/bin/time` (ru_maxrss, the
 * whole life of the process, shutdown included), and VmRSS polled every
 * 50 ms to see *when* the peak happens: during the download, or after the
 * `done` event (closing files, stopping workers).
 */
async function cliRun(torrentPath: string, workDir: string, label: string) {
  const outDir = await mkdtemp(join(workDir, 'cli-'));
  const timeFile = join(outDir, '..', `time-${process.pid}-${Date.now()}.txt`);
  const child = spawn(
    '/usr/bin/time',
    [
      '-f',
      '%M %e %U %S %R',
      '-o',
      timeFile,
      process.execPath,
      ...CLI_NODE_FLAGS,
      CLI,
      ...safeCliArgs([
        'download',
        torrentPath,
        '-o',
        outDir,
        '--json',
        '--bind',
        nextLoopbackAddress(),
        '--port',
        '0',
      ]),
    ],
    { env: { ...process.env, ...CLI_NODE_ENV }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const stop = cleanup.add(`cli (pid ${child.pid})`, async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(0)));
    await rm(outDir, { recursive: true, force: true });
    await rm(timeFile, { force: true });
  });
  const startedAt = Date.now();
  let doneAt: number | undefined;
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (doneAt === undefined && output.includes('"type":"done"')) doneAt = Date.now() - startedAt;
  });
  const rssTrace: { ms: number; rss: number }[] = [];
  const poll = setInterval(() => {
    void (async () => {
      try {
        const children = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8');
        const nodePid = children.trim().split(' ')[0];
        const status = await readFile(`/proc/${nodePid}/status`, 'utf8');
        const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) * 1024;
        rssTrace.push({ ms: Date.now() - startedAt, rss });
      } catch {}
    })();
  }, 50);
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearInterval(poll);
    const [maxRssKiB, wall, user, sys, faults] = (await readFile(timeFile, 'utf8'))
      .trim()
      .split('\n')
      .at(-1)!
      .split(' ');
    const peak = rssTrace.reduce((best, s) => (s.rss > best.rss ? s : best), { ms: 0, rss: 0 });
    const beforeDone = rssTrace.filter((s) => doneAt === undefined || s.ms <= doneAt);
    const peakBeforeDone = Math.max(0, ...beforeDone.map((s) => s.rss));
    raw.write(
      `${JSON.stringify({ label, type: 'cli', code, maxRssKiB, wall, user, sys, faults, doneAt, rssTrace })}\n`,
    );
    log(
      `${label} (cli, exit ${code}): ${wall} s, user ${user} s, sys ${sys} s, faults ${faults}; ` +
        `/usr/bin/time max RSS ${(Number(maxRssKiB) / 1024).toFixed(1)} MiB; polled VmRSS peak ` +
        `${(peak.rss / MiB).toFixed(1)} MiB at ${(peak.ms / 1000).toFixed(1)} s, before 'done' ` +
        `${(peakBeforeDone / MiB).toFixed(1)} MiB, 'done' at ${((doneAt ?? 0) / 1000).toFixed(1)} s`,
    );
  } finally {
    clearInterval(poll);
    await stop();
  }
}

try {
  const workDir = await mkdtemp(join(os.tmpdir(), 'lodestone-investigate-'));
  cleanup.add(`work folder ${workDir}`, () => rm(workDir, { recursive: true, force: true }));
  const tracker = await startOpentracker({ infoHashes: [] });
  cleanup.add(`opentracker (pid ${tracker.pid})`, () => tracker.stop());
  for (const size of sizes) {
    const root = await mkdtemp(join(workDir, `${formatSize(size)}-`));
    log(`preparing ${formatSize(size)}`);
    const torrent = await prepareTorrent({
      root,
      size,
      fileCount: 1,
      pieceLengthExp: 18,
      trackerUrl: tracker.httpUrl,
    });
    await tracker.addInfoHash(torrent.facts.infoHashHex);
    const seeders = [];
    const names = new Map<string, string>();
    for (const kind of seederKinds) {
      const seeder = await startSeeder(kind, torrent, tracker, cleanup, 600_000);
      seeders.push(seeder);
      names.set(seeder.address, kind);
    }
    for (let round = 1; round <= runs; round++) {
      await delay(Number(v.settle) * 1000);
      const label = `${formatSize(size)} round ${round}`;
      if (v.leecher === 'cli') await cliRun(torrent.torrentPath, root, label);
      else await probe(torrent.torrentPath, root, names, label);
    }
    for (const seeder of seeders) await seeder.stop();
    await rm(root, { recursive: true, force: true });
  }
} finally {
  const problems = await cleanup.run();
  for (const problem of problems) log(`cleanup: ${problem}`);
  raw.end();
}
