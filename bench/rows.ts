/**
 * Benchmark rows of issue 15, each on its own torrent, after the swarm and
 * solo phases:
 * - many-files: a torrent of N small files (100,000 by default: about 325
 *   MiB) plus four 8 MiB files, seeded by one fixed seeder (qBittorrent by
 *   default: libtorrent copes with many files), downloaded in turn by
 *   Lodestone, aria2 and python3-libtorrent: wall time, CPU and peak RSS,
 *   with Lodestone's ratios to each in the same round.
 * - big-pieces: a torrent with 16 MiB pieces downloaded by Lodestone from the
 *   swarm of other clients; its peak RSS is judged against the documented
 *   piece-buffer bound (bench/budget.ts) on top of Lodestone's own peak RSS
 *   with 256 KiB pieces in the swarm phase of the same run.
 * - encryption: Lodestone with `--encryption require` and `--encryption
 *   disable` from the same seeders, interleaved (bench/encryption-row.ts).
 * - utp: downloads over uTP only: Lodestone and libtorrent from a uTP-only
 *   libtorrent seeder, Lodestone↔Lodestone over uTP and TCP (bench/utp-row.ts).
 * - dht: a trackerless magnet on a loopback DHT of real nodes: start → first peer and metadata,
 *   Lodestone vs aria2 vs WebTorrent, `runs` rounds (bench/dht-row.ts; needs python3-libtorrent).
 * - scale: N small torrents (1,000; quick: 200) seeded by the lodestone daemon (over RPC) against
 *   transmission-daemon: add over RPC, first start, restart on resume records, RSS, idle CPU (bench/scale-row.ts).
 * - many-peers: one torrent from 20 vs 200 peers (the swarm's real clients plus scripted seeders):
 *   Lodestone's throughput and CPU per GiB, 200 ÷ 20 per round (bench/many-peers-row.ts).
 * A failed download is a recorded failure (the report lists it), never an
 * abort of the bench.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunningOpentracker } from '../test/helpers/opentracker.js';
import {
  createTorrentWithMktorrent,
  magnetUri,
  readTorrentFacts,
} from '../test/helpers/real-clients/index.js';
import { toolAvailable } from '../test/helpers/tools.js';
import { type PieceBufferBound, pieceBufferBound } from './budget.js';
import type { DownloadKind } from './clients.js';
import { type DhtRowRecord, dhtRow } from './dht-row.js';
import { type EncryptionLeecher, type EncryptionRowInfo, encryptionRow } from './encryption-row.js';
import { libtorrentAvailable } from './libtorrent.js';
import { writeManyFilesContent } from './many-files-content.js';
import { type ManyPeersRowInfo, manyPeersRow } from './many-peers-row.js';
import { type Cleanup, formatSize, MiB } from './measure.js';
import { download, type Phase, type PhaseConfig, rotate } from './phases.js';
import type { DownloadRecord } from './report.js';
import { type ScaleRowInfo, type ScaleSide, scaleRow } from './scale-row.js';
import { type BenchTorrent, prepareTorrent, type SeederKind, startSeeder } from './swarm.js';
import { type UtpRowInfo, utpRow } from './utp-row.js';

export const ROW_KINDS = [
  'many-files',
  'big-pieces',
  'encryption',
  'utp',
  'dht',
  'scale',
  'many-peers',
] as const;
export type RowKind = (typeof ROW_KINDS)[number];
export const MANY_FILES_LEECHERS = ['lodestone', 'aria2', 'libtorrent'] as const;

export interface RowsConfig {
  rows: RowKind[];
  manyFiles: number;
  manyFilesSeeder: SeederKind;
  manyFilesLeechers: DownloadKind[];
  bigPiecesSize: number;
  bigPieceLength: number;
  rowRuns: number;
  /** The encryption row (bench/encryption-row.ts): its content size and seeders. */
  encryptionSize: number;
  encryptionSeeders: SeederKind[];
  /** Its leechers: Lodestone (judged) and libtorrent (a reference). */
  encryptionLeechers: EncryptionLeecher[];
  /** The uTP row (bench/utp-row.ts): its content size. */
  utpSize: number;
  /** The scale row (bench/scale-row.ts): torrents seeded by one process, idle seconds measured. */
  scaleTorrents: number;
  scaleIdleSeconds: number;
  /** Lodestone's sides of the scale row (the daemon, the library Client, or both). */
  scaleSides: ScaleSide[];
  /** The many-peers row (bench/many-peers-row.ts): its content size and peer counts. */
  manyPeersSize: number;
  manyPeers: number[];
}

/** What the report needs to describe the rows (BenchReport.rows). */
export interface RowsInfo {
  manyFiles?: { files: number; totalSize: string; pieceLength: string; seeder: string };
  bigPieces?: { totalSize: string; pieceLength: string; seeders: string; bound: PieceBufferBound };
  encryption?: EncryptionRowInfo;
  utp?: UtpRowInfo;
  /** The DHT row's measurements (bench/dht-row.ts), or why it did not run. */
  dht?: { records: DhtRowRecord[]; skipped?: string };
  /** The scale row's measurements (bench/scale-row.ts). */
  scale?: ScaleRowInfo;
  /** The many-peers row's measurements (bench/many-peers-row.ts). */
  manyPeers?: ManyPeersRowInfo;
}

export interface RowsContext {
  tracker: RunningOpentracker;
  workDir: string;
  cleanup: Cleanup;
  config: PhaseConfig & RowsConfig;
  records: DownloadRecord[];
  info: RowsInfo;
  aborted: () => boolean;
  log: (text: string) => void;
}

export async function runRows(context: RowsContext): Promise<void> {
  for (const row of context.config.rows) {
    if (context.aborted()) return;
    if (row === 'many-files') await manyFilesRow(context);
    else if (row === 'big-pieces') await bigPiecesRow(context);
    else if (row === 'encryption') await encryptionRow(context);
    else if (row === 'utp') await utpRow(context, libtorrentAvailable());
    else if (row === 'many-peers') {
      const { config } = context;
      context.info.manyPeers = await manyPeersRow({
        root: join(context.workDir, 'many-peers'),
        size: config.manyPeersSize,
        rounds: config.runs,
        cases: config.manyPeers,
        // The swarm's other clients are the real peers; the rest are scripted.
        realKinds: config.seeders.filter((kind) => kind !== 'lodestone'),
        tracker: context.tracker,
        cleanup: context.cleanup,
        timeoutMs: config.timeoutMs,
        settleMs: config.settleMs,
        log: context.log,
      });
    } else if (row === 'scale') {
      const dir = join(context.workDir, 'scale');
      context.info.scale = await scaleRow({
        dir,
        torrents: context.config.scaleTorrents,
        idleSeconds: context.config.scaleIdleSeconds,
        sides: context.config.scaleSides,
        ...(toolAvailable('transmission-daemon')
          ? {}
          : { transmissionSkipped: 'transmission-daemon is not installed' }),
        register: (what, step) => context.cleanup.add(what, step),
        log: context.log,
      });
      await rm(dir, { recursive: true, force: true });
    } else if (!libtorrentAvailable())
      context.info.dht = { records: [], skipped: 'python3-libtorrent is not installed' };
    else context.info.dht = { records: await dhtRow(context.config.runs, context.log) };
  }
}

/** Seconds a many-files download may take: the bench's per-download timeout plus 1 s per 200 files. */
function manyFilesTimeoutMs(config: RowsContext['config']): number {
  return config.timeoutMs + (config.manyFiles / 200) * 1000;
}

async function manyFilesRow(context: RowsContext): Promise<void> {
  const { config } = context;
  const root = join(context.workDir, 'many-files');
  const removeRoot = context.cleanup.add(`many-files folder ${root}`, () =>
    rm(root, { recursive: true, force: true }),
  );
  try {
    const dataDir = join(root, 'data');
    await mkdir(dataDir, { recursive: true });
    const name = `many-files-${config.manyFiles}`;
    context.log(`many-files row: writing ${config.manyFiles} files and making the torrent (mktorrent)`);
    const content = writeManyFilesContent(dataDir, name, config.manyFiles);
    const pieceLengthExp = 18;
    const torrentPath = await createTorrentWithMktorrent({
      path: content.folder,
      announce: [context.tracker.httpUrl],
      pieceLengthExp,
      out: join(root, `${name}.torrent`),
    });
    const facts = await readTorrentFacts(torrentPath);
    await context.tracker.addInfoHash(facts.infoHashHex);
    const torrent: BenchTorrent = {
      torrentPath,
      magnet: magnetUri(facts),
      facts,
      dataDir,
      expected: content.expected,
      totalSize: content.totalSize,
    };
    context.info.manyFiles = {
      files: content.expected.length,
      totalSize: `${(content.totalSize / MiB).toFixed(0)} MiB`,
      pieceLength: formatSize(2 ** pieceLengthExp),
      seeder: config.manyFilesSeeder,
    };
    const timeoutMs = manyFilesTimeoutMs(config);
    const phase = rowPhase(context, torrent, timeoutMs);
    context.log(
      `many-files row: ${content.expected.length} files, ${(content.totalSize / MiB).toFixed(1)} MiB; starting ${config.manyFilesSeeder}`,
    );
    const seeder = await startSeeder(
      config.manyFilesSeeder,
      torrent,
      context.tracker,
      context.cleanup,
      timeoutMs,
    );
    try {
      const peers = [{ host: seeder.address, port: seeder.port }];
      for (let round = 1; round <= config.rowRuns; round++) {
        for (const leecher of rotate(config.manyFilesLeechers, round - 1)) {
          if (context.aborted()) return;
          const base = {
            phase: 'many-files',
            seeders: seeder.kind,
            leecher,
            source: 'torrent',
            round,
          } as const;
          await download(phase, base, undefined, peers);
        }
      }
    } finally {
      await seeder.stop();
    }
  } finally {
    await removeRoot();
  }
}

async function bigPiecesRow(context: RowsContext): Promise<void> {
  const { config } = context;
  if (config.seeders.length === 0) return;
  const root = join(context.workDir, 'big-pieces');
  const removeRoot = context.cleanup.add(`big-pieces folder ${root}`, () =>
    rm(root, { recursive: true, force: true }),
  );
  try {
    await mkdir(root, { recursive: true });
    const pieceLengthExp = Math.log2(config.bigPieceLength);
    context.log(
      `big-pieces row: ${formatSize(config.bigPiecesSize)} in pieces of ${formatSize(config.bigPieceLength)}`,
    );
    const torrent = await prepareTorrent({
      root,
      size: config.bigPiecesSize,
      fileCount: 1,
      pieceLengthExp,
      trackerUrl: context.tracker.httpUrl,
    });
    await context.tracker.addInfoHash(torrent.facts.infoHashHex);
    const seederNames = config.seeders.join('+');
    context.info.bigPieces = {
      totalSize: formatSize(torrent.totalSize),
      pieceLength: formatSize(config.bigPieceLength),
      seeders: seederNames,
      bound: pieceBufferBound(config.bigPieceLength),
    };
    const phase = rowPhase(context, torrent, config.timeoutMs);
    const seeders = [];
    try {
      for (const kind of config.seeders) {
        seeders.push(await startSeeder(kind, torrent, context.tracker, context.cleanup, config.timeoutMs));
      }
      for (let round = 1; round <= config.rowRuns; round++) {
        if (context.aborted()) return;
        const base = {
          phase: 'big-pieces',
          seeders: seederNames,
          leecher: 'lodestone',
          source: 'torrent',
          round,
        } as const;
        await download(phase, base);
      }
    } finally {
      await Promise.all(seeders.map((seeder) => seeder.stop()));
    }
  } finally {
    await removeRoot();
  }
}

function rowPhase(context: RowsContext, torrent: BenchTorrent, timeoutMs: number): Phase {
  return {
    torrent,
    tracker: context.tracker,
    workDir: context.workDir,
    cleanup: context.cleanup,
    config: { ...context.config, timeoutMs, runs: context.config.rowRuns },
    records: context.records,
    aborted: context.aborted,
    log: context.log,
  };
}
