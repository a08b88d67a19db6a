/**
 * The uTP row (issue 16): downloads over uTP only, on loopback, in two pairs measured in the same
 * rounds (the order alternates by round):
 * - from a python3-libtorrent seeder with TCP off both ways (`enable_outgoing_tcp` and
 *   `enable_incoming_tcp` False: test/fixtures/utp/lt-swarm-peer.py utp-only): a Lodestone leecher
 *   (it can only reach the seeder over uTP) against a python3-libtorrent leecher, TCP off too
 *   (libtorrent → libtorrent over uTP); the ratio is Lodestone ÷ libtorrent;
 * - from a Lodestone seeder at its defaults: a Lodestone leecher over uTP (at its defaults it
 *   dials uTP first; the record fails if any peer came over TCP) against one with `--no-utp`
 *   (TCP only); the ratio is uTP ÷ TCP.
 * Lodestone leechers get the seeder with `--peer` and `--no-trackers`; the libtorrent leecher
 * dials it too. The seeders run one at a time, so no leecher finds the other pair's seeder.
 * Figures and how to read them: docs/utp-bench.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nextLoopbackAddress } from '../test/helpers/real-clients/index.js';
import { LIBTORRENT_PYTHON } from '../test/helpers/tools.js';
import { BenchError, type Cleanup, formatSize, MiB, pollFor, sampleProcess } from './measure.js';
import { download, type Phase } from './phases.js';
import { cell, type DownloadRecord, type Spread, spread, table } from './report.js';
import type { RowsContext } from './rows.js';
import { type BenchTorrent, prepareTorrent, type RunningSeeder, startSeeder } from './swarm.js';

/** What the row needs of a seeder (the libtorrent uTP seeder is not one of the bench's SeederKinds). */
type UtpSeeder = Pick<RunningSeeder, 'address' | 'port' | 'pid' | 'sample' | 'stop'>;

const LT_PEER = fileURLToPath(new URL('../../test/fixtures/utp/lt-swarm-peer.py', import.meta.url));

export interface UtpRowInfo {
  totalSize: string;
  pieceLength: string;
}

/** One pair of the row: its seeder, and the two downloads compared within each round. */
interface UtpPair {
  seeder: 'libtorrent' | 'lodestone';
  downloads: { leecher: 'lodestone' | 'libtorrent'; transport: 'utp' | 'tcp' }[];
}

const PAIRS: UtpPair[] = [
  {
    seeder: 'libtorrent',
    downloads: [
      { leecher: 'lodestone', transport: 'utp' },
      { leecher: 'libtorrent', transport: 'utp' },
    ],
  },
  {
    seeder: 'lodestone',
    downloads: [
      { leecher: 'lodestone', transport: 'utp' },
      { leecher: 'lodestone', transport: 'tcp' },
    ],
  },
];

export interface UtpRatio {
  /** What is divided by what, e.g. 'Lodestone ÷ libtorrent, both over uTP, from libtorrent'. */
  label: string;
  /** MiB/s ratio, within each round. */
  throughput?: Spread;
  /** CPU s/GiB ratio of the two leechers, within each round. */
  cpu?: Spread;
}

export interface UtpSummary {
  ratios: UtpRatio[];
}

/** The ratios of the uTP row's records, each within one round (pure). */
export function summarizeUtp(records: DownloadRecord[]): UtpSummary | undefined {
  const mine = records.filter((r) => r.phase === 'utp');
  if (mine.length === 0) return undefined;
  const rounds = [...new Set(mine.map((r) => r.round))];
  const find = (round: number, seeders: string, leecher: string, transport: 'utp' | 'tcp') =>
    mine.find(
      (r) =>
        r.ok &&
        r.round === round &&
        r.seeders === seeders &&
        r.leecher === leecher &&
        r.transport === transport,
    );
  const ratio = (
    label: string,
    seeders: string,
    top: [string, 'utp' | 'tcp'],
    bottom: [string, 'utp' | 'tcp'],
  ): UtpRatio | undefined => {
    const pairs = rounds
      .map((round) => [find(round, seeders, ...top), find(round, seeders, ...bottom)] as const)
      .filter(([a, b]) => a !== undefined && b !== undefined);
    if (pairs.length === 0) return undefined;
    const of = (field: 'mibPerSecond' | 'cpuSecondsPerGiB') =>
      spread(
        pairs.map(([a, b]) => {
          const x = a![field];
          const y = b![field];
          return x !== undefined && y !== undefined && y > 0 ? x / y : undefined;
        }),
      );
    const throughput = of('mibPerSecond');
    const cpu = of('cpuSecondsPerGiB');
    return { label, ...(throughput ? { throughput } : {}), ...(cpu ? { cpu } : {}) };
  };
  const ratios = [
    ratio(
      'Lodestone ÷ libtorrent, both over uTP from libtorrent',
      'libtorrent',
      ['lodestone', 'utp'],
      ['libtorrent', 'utp'],
    ),
    ratio(
      'Lodestone over uTP ÷ over TCP, from Lodestone',
      'lodestone',
      ['lodestone', 'utp'],
      ['lodestone', 'tcp'],
    ),
  ].filter((r): r is UtpRatio => r !== undefined);
  return { ratios };
}

/** A Lodestone uTP download that connected over TCP measured the wrong thing: a failure. */
export function checkTransport(record: DownloadRecord): DownloadRecord {
  if (!record.ok || record.leecher !== 'lodestone' || record.transport === undefined) return record;
  const seen = Object.keys(record.peersByTransport ?? {});
  const other = seen.filter((kind) => kind !== record.transport);
  if (seen.length > 0 && other.length === 0) return record;
  return {
    ...record,
    ok: false,
    error: `expected ${record.transport} only, connected over ${seen.join(', ') || 'nothing'}`,
  };
}

export async function utpRow(context: RowsContext, withLibtorrent: boolean): Promise<void> {
  const { config } = context;
  const root = join(context.workDir, 'utp');
  const removeRoot = context.cleanup.add(`utp folder ${root}`, () =>
    rm(root, { recursive: true, force: true }),
  );
  try {
    await mkdir(root, { recursive: true });
    context.log(`utp row: ${formatSize(config.utpSize)}`);
    const pieceLengthExp = 18;
    const torrent = await prepareTorrent({
      root,
      size: config.utpSize,
      fileCount: 1,
      pieceLengthExp,
      trackerUrl: context.tracker.httpUrl,
    });
    await context.tracker.addInfoHash(torrent.facts.infoHashHex);
    context.info.utp = {
      totalSize: formatSize(torrent.totalSize),
      pieceLength: formatSize(2 ** pieceLengthExp),
    };
    // libtorrent → libtorrent over uTP has run at 2–7 MiB/s here: 120 s plus 1 s per 2 MiB at least.
    const timeoutMs = Math.max(config.timeoutMs, 120_000 + (config.utpSize / MiB) * 500);
    const phase: Phase = {
      torrent,
      tracker: context.tracker,
      workDir: context.workDir,
      cleanup: context.cleanup,
      config: { ...context.config, runs: config.runs, timeoutMs },
      records: context.records,
      aborted: context.aborted,
      log: context.log,
    };
    for (const pair of PAIRS) {
      if (pair.seeder === 'libtorrent' && !withLibtorrent) continue;
      if (context.aborted()) return;
      const seeder: UtpSeeder =
        pair.seeder === 'libtorrent'
          ? await startLibtorrentUtpSeeder(torrent, context.cleanup, timeoutMs)
          : await startSeeder('lodestone', torrent, context.tracker, context.cleanup, timeoutMs);
      try {
        const peer = { host: seeder.address, port: seeder.port };
        const seederCpu = async () => {
          const sample = await seeder.sample();
          return sample === undefined ? undefined : { cpuSeconds: sample.cpuSeconds };
        };
        for (let round = 1; round <= config.runs; round++) {
          const order = round % 2 === 1 ? pair.downloads : [...pair.downloads].reverse();
          for (const { leecher, transport } of order) {
            if (context.aborted()) return;
            const base = {
              phase: 'utp',
              seeders: pair.seeder,
              leecher,
              source: 'torrent',
              round,
              transport,
            } as const;
            const before = context.records.length;
            await download(
              phase,
              base,
              seederCpu,
              [peer],
              [
                '--peer',
                `${peer.host}:${peer.port}`,
                '--no-trackers',
                ...(transport === 'tcp' ? ['--no-utp'] : []),
              ],
            );
            const record = context.records[before];
            if (record !== undefined) {
              const checked = checkTransport(record);
              context.records[before] = checked;
              if (checked !== record) context.log(`utp row: FAILED: ${checked.error}`);
            }
          }
        }
      } finally {
        await seeder.stop();
      }
    }
  } finally {
    await removeRoot();
  }
}

/** python3-libtorrent seeding `torrent` over uTP only, on a fresh loopback address. */
async function startLibtorrentUtpSeeder(
  torrent: BenchTorrent,
  cleanup: Cleanup,
  timeoutMs: number,
): Promise<UtpSeeder> {
  const address = nextLoopbackAddress();
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  // It writes status.json into its folder every 20 ms: a folder of its own, holding a link to the content.
  const statusDir = join(torrent.dataDir, '..', 'lt-utp-seed');
  await rm(statusDir, { recursive: true, force: true });
  await mkdir(statusDir, { recursive: true });
  for (const file of torrent.expected) {
    await mkdir(join(statusDir, file.path, '..'), { recursive: true });
    await symlink(join(torrent.dataDir, file.path), join(statusDir, file.path));
  }
  const child: ChildProcess = spawn(
    LIBTORRENT_PYTHON,
    [LT_PEER, 'seed', 'utp-only', torrent.torrentPath, statusDir, address, String(port)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new BenchError(`could not start ${LIBTORRENT_PYTHON}`);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-2000);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = cleanup.add(`libtorrent uTP seeder (pid ${pid})`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    await rm(statusDir, { recursive: true, force: true });
  });
  await pollFor(
    `libtorrent uTP seeder on ${address}:${port} to seed`,
    timeoutMs,
    50,
    async () => {
      const text = await readFile(join(statusDir, 'status.json'), 'utf8').catch(() => '');
      try {
        return (JSON.parse(text) as { is_seeding?: boolean }).is_seeding === true ? true : undefined;
      } catch {
        return undefined; // not written yet
      }
    },
    () => (child.exitCode !== null ? `python3-libtorrent exited: ${stderr.trim()}` : undefined),
  );
  return { address, port, pid, sample: () => sampleProcess(pid), stop };
}

/** The report's section for the uTP row (empty when it did not run). */
export function renderUtp(records: DownloadRecord[], info: UtpRowInfo | undefined): string[] {
  const mine = records.filter((r) => r.phase === 'utp');
  const summary = summarizeUtp(records);
  if (summary === undefined) return [];
  const rows: string[][] = [];
  for (const pair of PAIRS) {
    for (const { leecher, transport } of pair.downloads) {
      const group = mine.filter(
        (r) => r.seeders === pair.seeder && r.leecher === leecher && r.transport === transport,
      );
      if (group.length === 0) continue;
      const ok = group.filter((r) => r.ok);
      rows.push([
        pair.seeder,
        leecher,
        transport === 'utp' ? 'uTP only' : 'TCP only',
        ok.length === group.length ? String(ok.length) : `${ok.length}/${group.length}`,
        cell(spread(ok.map((r) => r.mibPerSecond))),
        cell(spread(ok.map((r) => r.cpuSecondsPerGiB))),
        cell(spread(ok.map((r) => r.seederCpuSecondsPerGiB))),
      ]);
    }
  }
  return [
    '',
    `## uTP${info ? `: ${info.totalSize} in pieces of ${info.pieceLength}` : ''} (from the .torrent, one seeder; median, min–max)`,
    '',
    'libtorrent: python3-libtorrent with TCP off both ways. Lodestone over uTP dials uTP first at its defaults (a download that connected over TCP is a failure); `--no-utp` gives TCP only. The two downloads of a pair alternate in order by round.',
    '',
    table(['seeder', 'leecher', 'transport', 'ok', 'MiB/s', 'CPU s/GiB', 'seeder’s CPU s/GiB'], rows),
    '',
    table(
      ['same round', 'MiB/s ratio', 'leecher CPU s/GiB ratio'],
      summary.ratios.map((r) => [r.label, cell(r.throughput), cell(r.cpu)]),
    ),
  ];
}
