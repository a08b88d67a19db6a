/**
 * The many-peers row (issue 18): one torrent with 200 connected peers against the 20-peer case.
 * A Lodestone leecher (`lodestone download`, as a user runs it) downloads one single-file torrent
 * (256 KiB pieces) from the first 20 and from the first 200 of one list of peers, the order
 * alternating by round: the real seeders (Transmission, aria2, qBittorrent: the swarm's other
 * clients, each on its own 127.x address) first, then scripted plaintext seeders
 * (bench/piece-seeders.ts, one process, each listener on its own 127.x address). The leecher gets
 * every peer with `--peer` (no tracker, no DHT, no uTP) and `--max-peers` above the count.
 * Per download: peers connected, MiB/s (spawn → every piece verified) and the leecher's CPU
 * seconds per GiB; per round the 200 ÷ 20 ratios. Target: throughput ≥ 0.85×, CPU/GiB ≤ 1.15×
 * (medians over the rounds). Loopback only; every process is stopped by PID and every folder
 * removed through the caller's Cleanup.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningOpentracker } from '../test/helpers/opentracker.js';
import { nextLoopbackAddress } from '../test/helpers/real-clients/index.js';
import { manyPeersDownload } from './many-peers-leecher.js';
import { type Cleanup, delay, formatSize, GiB, MiB } from './measure.js';
import { rotate } from './phases.js';
import { cell, type Spread, spread, table } from './report.js';
import { prepareTorrent, type SeederKind, startSeeder } from './swarm.js';

const SEEDERS = fileURLToPath(new URL('./piece-seeders.js', import.meta.url));

/** Issue 18: 200 peers within 15% of 20 peers, on throughput and on CPU per GiB. */
export const MANY_PEERS_THROUGHPUT_TARGET = 0.85;
export const MANY_PEERS_CPU_TARGET = 1.15;
/**
 * The verdict is given only when, in every judged round's many-peer download, every peer had
 * connected while at least this share of the content was still to come: otherwise the row
 * measured mostly connection set-up, not a download "with 200 connected peers".
 */
export const MANY_PEERS_MIN_CONNECTED_SHARE = 0.5;

export interface ManyPeersResult {
  round: number;
  /** Peers given to the leecher. */
  peers: number;
  connected?: number;
  mibPerSecond?: number;
  /** Leecher CPU per GiB over the whole download (spawn → last piece verified). */
  cpuPerGiB?: number;
  /** Of it, the main thread's (without the write thread and V8's helper threads). */
  mainThreadCpuPerGiB?: number;
  /** Share of the content verified after every given peer had connected (0 if they never all did). */
  connectedShare?: number;
  /** Seconds from spawn until every given peer had connected. */
  allConnectedSeconds?: number;
  /** Leecher CPU per GiB over the part downloaded after every given peer had connected. */
  connectedCpuPerGiB?: number;
  error?: string;
}

export interface ManyPeersRowInfo {
  totalSize: string;
  pieceLength: string;
  real: string[];
  cases: number[];
  results: ManyPeersResult[];
  summary?: ManyPeersSummary;
}

export interface ManyPeersSummary {
  /** Most ÷ fewest peers within each round. */
  throughput?: Spread;
  /** CPU per GiB over the whole download: the judged number. */
  cpu?: Spread;
  /** CPU per GiB after every peer had connected: the steady state, shown beside it. */
  connectedCpu?: Spread;
  /** The main thread's CPU per GiB (whole download), shown beside it. */
  mainThreadCpu?: Spread;
  /** Every judged many-peer download had all its peers connected for at least MANY_PEERS_MIN_CONNECTED_SHARE. */
  allConnected?: boolean;
  held?: boolean;
}

export interface ManyPeersOptions {
  root: string;
  size: number;
  rounds: number;
  /** Peer counts, e.g. [20, 200]. */
  cases: number[];
  realKinds: SeederKind[];
  tracker: RunningOpentracker;
  cleanup: Cleanup;
  timeoutMs: number;
  /** Idle pause before each download (the bench's --settle; see its note in the report). */
  settleMs: number;
  log: (text: string) => void;
}

/** Starts the scripted seeders' process on `count` fresh loopback addresses. */
async function startScripted(
  cleanup: Cleanup,
  dataPath: string,
  infoHashHex: string,
  pieceLength: number,
  count: number,
) {
  const hosts = Array.from({ length: count }, () => nextLoopbackAddress());
  const child: ChildProcess = spawn(
    process.execPath,
    [SEEDERS, dataPath, infoHashHex, String(pieceLength), ...hosts],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const stop = cleanup.add(`scripted seeders (pid ${child.pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
  const peers = await new Promise<{ host: string; port: number }[]>((resolve, reject) => {
    let text = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined)
        resolve((JSON.parse(line) as { peers: { host: string; port: number }[] }).peers);
    });
    child.once('exit', (code) => reject(new Error(`scripted seeders exited with ${code}`)));
  });
  return { peers, stop };
}

/** The ratios of the results (pure): most ÷ fewest peers within each round, medians over rounds. */
export function summarizeManyPeers(results: ManyPeersResult[], cases: number[]): ManyPeersSummary {
  const few = Math.min(...cases);
  const many = Math.max(...cases);
  const rounds = [...new Set(results.map((r) => r.round))];
  const pairs = rounds.map((round) => {
    const of = (peers: number) => results.find((r) => r.round === round && r.peers === peers && !r.error);
    return [of(few), of(many)] as const;
  });
  const ratio = (pick: (r: ManyPeersResult) => number | undefined) =>
    spread(
      pairs.map(([a, b]) => {
        const x = a && pick(a);
        const y = b && pick(b);
        return x !== undefined && y !== undefined && x > 0 ? y / x : undefined;
      }),
    );
  const throughput = ratio((r) => r.mibPerSecond);
  const cpu = ratio((r) => r.cpuPerGiB);
  const connectedCpu = ratio((r) => r.connectedCpuPerGiB);
  const mainThreadCpu = ratio((r) => r.mainThreadCpuPerGiB);
  // The many-peer side of each judged round (the 20-peer reference's real clients may connect
  // late in a fast download; that does not make it a download "with 200 connected peers").
  const judged = pairs.flatMap(([a, b]) => (a && b ? [b] : []));
  const allConnected =
    judged.length > 0 && judged.every((r) => (r.connectedShare ?? 0) >= MANY_PEERS_MIN_CONNECTED_SHARE);
  return {
    ...(throughput ? { throughput } : {}),
    ...(cpu ? { cpu } : {}),
    ...(connectedCpu ? { connectedCpu } : {}),
    ...(mainThreadCpu ? { mainThreadCpu } : {}),
    allConnected,
    ...(throughput && cpu && allConnected
      ? {
          held: throughput.median >= MANY_PEERS_THROUGHPUT_TARGET && cpu.median <= MANY_PEERS_CPU_TARGET,
        }
      : {}),
  };
}

export async function manyPeersRow(options: ManyPeersOptions): Promise<ManyPeersRowInfo> {
  const { root, size, cleanup, log, timeoutMs } = options;
  const removeRoot = cleanup.add(`many-peers folder ${root}`, () =>
    rm(root, { recursive: true, force: true }),
  );
  const results: ManyPeersResult[] = [];
  const info: ManyPeersRowInfo = {
    totalSize: formatSize(size),
    pieceLength: formatSize(2 ** 18),
    real: options.realKinds,
    cases: options.cases,
    results,
  };
  const stops: (() => Promise<void>)[] = [];
  try {
    await mkdir(root, { recursive: true });
    const torrent = await prepareTorrent({
      root,
      size,
      fileCount: 1,
      pieceLengthExp: 18,
      trackerUrl: options.tracker.httpUrl,
    });
    // The real seeders start as in the bench's swarm (announcing); the leecher uses only --peer.
    await options.tracker.addInfoHash(torrent.facts.infoHashHex);
    const all: { host: string; port: number }[] = [];
    for (const kind of options.realKinds) {
      log(`many-peers row: starting ${kind} seeder`);
      const seeder = await startSeeder(kind, torrent, options.tracker, cleanup, timeoutMs);
      stops.push(() => seeder.stop());
      all.push({ host: seeder.address, port: seeder.port });
    }
    const most = Math.max(...options.cases);
    log(`many-peers row: starting ${Math.max(0, most - all.length)} scripted seeders`);
    const scripted = await startScripted(
      cleanup,
      join(torrent.dataDir, torrent.expected[0]!.path),
      torrent.facts.infoHashHex,
      torrent.facts.pieceLength,
      Math.max(0, most - all.length),
    );
    stops.push(scripted.stop);
    all.push(...scripted.peers);
    for (let round = 1; round <= options.rounds; round++) {
      for (const count of rotate(options.cases, round - 1)) {
        log(`many-peers row: round ${round}, ${count} peers`);
        // Without it the first download after writing the content is billed more CPU (page cache).
        if (options.settleMs > 0) await delay(options.settleMs);
        try {
          const m = await manyPeersDownload({
            torrent,
            peers: all.slice(0, count),
            workDir: root,
            cleanup,
            timeoutMs,
          });
          const after = m.allConnected && size - m.allConnected.verifiedBytes;
          const r: ManyPeersResult = {
            round,
            peers: count,
            connected: m.connected,
            mibPerSecond: size / MiB / m.wallSeconds,
            cpuPerGiB: m.cpuSeconds / (size / GiB),
            ...(m.mainThreadCpuSeconds !== undefined
              ? { mainThreadCpuPerGiB: m.mainThreadCpuSeconds / (size / GiB) }
              : {}),
            connectedShare: after === undefined ? 0 : after / size,
            ...(m.allConnected ? { allConnectedSeconds: m.allConnected.seconds } : {}),
            ...(m.allConnected && after !== undefined && after > 0
              ? { connectedCpuPerGiB: (m.cpuSeconds - m.allConnected.cpuSeconds) / (after / GiB) }
              : {}),
          };
          results.push(r);
          log(
            `  ${r.connected} connected (all after ${fixed(r.allConnectedSeconds, 2)} s, ${fixed((r.connectedShare ?? 0) * 100, 0)}% of the content after), ${r.mibPerSecond!.toFixed(1)} MiB/s, ${r.cpuPerGiB!.toFixed(2)} CPU s/GiB (${fixed(r.connectedCpuPerGiB, 2)} after all connected, ${fixed(r.mainThreadCpuPerGiB, 2)} main thread)`,
          );
        } catch (error) {
          results.push({ round, peers: count, error: (error as Error).message.split('\n')[0] ?? 'failed' });
          log(`  failed: ${results.at(-1)!.error}`);
        }
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
    await removeRoot();
  }
  info.summary = summarizeManyPeers(results, options.cases);
  return info;
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? '–' : value.toFixed(digits);

export function renderManyPeers(info: ManyPeersRowInfo | undefined): string[] {
  if (!info) return [];
  const few = Math.min(...info.cases);
  const many = Math.max(...info.cases);
  const s = info.summary ?? summarizeManyPeers(info.results, info.cases);
  const minShare = `${MANY_PEERS_MIN_CONNECTED_SHARE * 100}%`;
  const verdict =
    s.held !== undefined
      ? s.held
        ? 'held'
        : '**missed**'
      : s.cpu === undefined
        ? 'not judged (no round with both downloads)'
        : `not judged: in some ${many}-peer download not every peer had connected with ${minShare} of the content still to come, so it measured connection set-up more than a download with ${many} peers (use a larger --many-peers-size)`;
  const short = info.results.filter((r) => r.connected !== undefined && r.connected < r.peers);
  const shortNote =
    short.length > 0
      ? ` Not every peer connected before the download ended (${short.map((r) => `${r.connected} of ${r.peers}`).join(', ')}).`
      : '';
  const percent = (share: number | undefined) => (share === undefined ? '–' : `${Math.round(share * 100)}%`);
  return [
    '',
    `### Many peers: ${few} vs ${many} peers, one torrent of ${info.totalSize} (pieces of ${info.pieceLength}; real seeders: ${info.real.join(', ') || 'none'}, the rest scripted)`,
    '',
    table(
      [
        'round',
        'peers given',
        'connected',
        'all connected after (s)',
        'content after that',
        'MiB/s',
        'CPU s/GiB (whole)',
        'CPU s/GiB (after all connected)',
        'main thread CPU s/GiB',
      ],
      info.results.map((r) => [
        String(r.round),
        String(r.peers),
        r.error ? `**failed**: ${r.error}` : String(r.connected ?? '–'),
        fixed(r.allConnectedSeconds, 2),
        percent(r.error ? undefined : r.connectedShare),
        fixed(r.mibPerSecond, 1),
        fixed(r.cpuPerGiB, 2),
        fixed(r.connectedCpuPerGiB, 2),
        fixed(r.mainThreadCpuPerGiB, 2),
      ]),
    ),
    '',
    `${many} ÷ ${few} peers, same round (median, min–max): throughput ${cell(s.throughput)} (target ≥ ${MANY_PEERS_THROUGHPUT_TARGET}), CPU per GiB over the whole download ${cell(s.cpu)} (target ≤ ${MANY_PEERS_CPU_TARGET}): ${verdict}. The verdict judges the whole-download number (what the download costs, the ${many - few} extra connections' set-up included), and only when every ${many}-peer download had all its peers connected with at least ${minShare} of the content to come; CPU per GiB after every peer had connected (the steady state, shown, not judged): ${cell(s.connectedCpu)}; the main thread's CPU per GiB (without the write thread, whose system time varies most with the machine's load, and V8's helper threads; shown, not judged): ${cell(s.mainThreadCpu)}.${shortNote}`,
  ];
}
