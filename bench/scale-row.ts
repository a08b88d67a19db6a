/**
 * The scale row (issue 18): N small generated torrents (1–4 files of 16–256 KiB each; 1,000 in the
 * full bench, 200 with --quick, `--scale-torrents`) seeded by one process, Lodestone against
 * transmission-daemon, in the same run, one after the other. Lodestone is the real
 * `lodestone daemon` (bench/scale-daemon.ts), given its torrents over RPC exactly as Transmission
 * (bench/scale-transmission.ts); `--scale-side client` runs one library `Client` in a process of
 * its own instead (bench/scale-client.ts), `both` runs the two. For each:
 * - add: every `torrent-add` over RPC, one at a time (daemons only);
 * - first start: process start → every torrent seeding (`torrent-get` status 6 for all), a full
 *   check of every piece;
 * - RSS (VmRSS) after settling, idle CPU (share of one core over `idleSeconds`), open files;
 * - restart: SIGTERM, then a new process on the same state → every torrent seeding (Lodestone
 *   reads its resume records: no piece is hashed; Transmission its .resume files).
 * No trackers (the torrents have none), no DHT (the daemon runs with --no-dht), no peers: the
 * cost measured is the client's own for N torrents at rest. Targets for Lodestone at 1,000:
 * RSS ≤ 300 MiB, idle CPU ≤ 2 %, restart ≤ 5 s. See docs/scale.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '../src/index.js';
import { HashPool } from '../src/storage/hasher.js';
import { BenchError, MiB } from './measure.js';
import { digits, table } from './report.js';
import { daemonSide } from './scale-daemon.js';
import { measureIdle, type ScaleSideResult, stopByPid } from './scale-measure.js';
import { transmissionSide } from './scale-transmission.js';

export type { ScaleSideResult } from './scale-measure.js';

const cell = (value: number | undefined) => (value === undefined ? '–' : digits(value));

const SCALE_CLIENT = fileURLToPath(new URL('./scale-client.js', import.meta.url));
const KiB = 1024;

export interface ScaleRowInfo {
  torrents: number;
  totalSize: string;
  idleSeconds: number;
  results: ScaleSideResult[];
  skipped?: string;
}

/** Writes `count` torrents of 1–4 random files (16–256 KiB) under `dir`: data/<i>/s<i>/, torrents/<i>.torrent. */
export async function generateScaleTorrents(dir: string, count: number): Promise<number> {
  await mkdir(join(dir, 'torrents'), { recursive: true });
  const pool = new HashPool({ workers: 1 });
  let total = 0;
  try {
    for (let i = 0; i < count; i++) {
      const folder = join(dir, 'data', String(i), `s${i}`);
      await mkdir(folder, { recursive: true });
      const files = 1 + (i % 4);
      for (let f = 0; f < files; f++) {
        const size = (16 + ((i * 7 + f * 53) % 241)) * KiB;
        total += size;
        await writeFile(join(folder, `f${f}.bin`), randomBytes(size));
      }
      const { torrent } = await createTorrent(folder, {
        hashPool: pool,
        pieceLength: 16 * KiB,
        creationDate: false,
      });
      await writeFile(join(dir, 'torrents', `${i}.torrent`), torrent);
    }
  } finally {
    await pool.destroy();
  }
  return total;
}

/** A running library-`Client` side (bench/scale-client.ts). */
interface OurSide {
  child: ChildProcess;
  /** Resolves once every torrent is seeding, with the child's report. */
  seeding: Promise<{ seeding: number; of: number; ms: number; piecesHashed: number }>;
}

/** Starts our side on `dir` (bench/scale-client.ts): one Lodestone `Client` seeding every torrent. */
export function startOurSide(dir: string, address: string): OurSide {
  const child = spawn(process.execPath, [SCALE_CLIENT, dir, address], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const seeding = new Promise<{ seeding: number; of: number; ms: number; piecesHashed: number }>(
    (resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"seeding"'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new BenchError(`scale client exited (${code}): ${stderr}`)));
    },
  );
  seeding.catch(() => {});
  return { child, seeding };
}

/** Lodestone as one library `Client` in its own process (`--scale-side client`). */
export async function clientSide(
  dir: string,
  address: string,
  torrents: number,
  idleMs: number,
  register: (child: ChildProcess) => () => Promise<void>,
): Promise<ScaleSideResult> {
  const result: ScaleSideResult = { client: 'lodestone', side: 'client', torrents };
  const t0 = performance.now();
  const first = startOurSide(dir, address);
  const stopFirst = register(first.child);
  try {
    const report = await first.seeding;
    if (report.seeding !== torrents) throw new BenchError(`${report.seeding}/${torrents} seeding`);
    result.firstStartSeconds = (performance.now() - t0) / 1000;
    Object.assign(result, await measureIdle(first.child.pid!, 3000, idleMs));
  } finally {
    await stopFirst();
  }
  const t1 = performance.now();
  const second = startOurSide(dir, address);
  const stopSecond = register(second.child);
  try {
    const report = await second.seeding;
    if (report.seeding !== torrents) throw new BenchError(`${report.seeding}/${torrents} seeding on restart`);
    result.restartSeconds = (performance.now() - t1) / 1000;
    result.restartPiecesHashed = report.piecesHashed;
  } finally {
    await stopSecond();
  }
  return result;
}

/** How Lodestone is run in the row: the real daemon over RPC (the default), or one library `Client`. */
export type ScaleSide = 'daemon' | 'client';

/** `--scale-side daemon|client|both`: Lodestone's sides of the scale row. */
export function scaleSides(value: string | undefined): ScaleSide[] {
  if (value === undefined || value === 'daemon') return ['daemon'];
  if (value === 'client') return ['client'];
  if (value === 'both') return ['daemon', 'client'];
  throw new BenchError(`--scale-side daemon|client|both, not ${value}`);
}

/** Runs every side on `dir` (after generating the torrents); a failed side is recorded, not thrown. */
export async function scaleRow(options: {
  dir: string;
  torrents: number;
  idleSeconds: number;
  /** Lodestone's sides, in turn (default: the daemon only). */
  sides?: readonly ScaleSide[];
  /** Why transmission-daemon is left out (not installed, --no-transmission); undefined runs it. */
  transmissionSkipped?: string;
  register: (what: string, step: () => Promise<void>) => () => Promise<void>;
  log: (text: string) => void;
}): Promise<ScaleRowInfo> {
  const { dir, torrents, log } = options;
  log(`scale: generating ${torrents} torrents`);
  const total = await generateScaleTorrents(dir, torrents);
  const register = (child: ChildProcess) =>
    options.register(`scale process ${child.pid}`, () => stopByPid(child));
  const results: ScaleSideResult[] = [];
  const sides = [
    ...(options.sides ?? ['daemon']).map((side) =>
      side === 'daemon'
        ? (['lodestone', 'daemon', daemonSide] as const)
        : (['lodestone', 'client', clientSide] as const),
    ),
    ...(options.transmissionSkipped === undefined
      ? [['transmission', undefined, transmissionSide] as const]
      : []),
  ];
  for (const [client, side, run] of sides) {
    log(`scale: ${client}${side ? ` (${side})` : ''}, ${torrents} torrents`);
    try {
      results.push(await run(dir, '127.0.0.1', torrents, options.idleSeconds * 1000, register));
    } catch (error) {
      results.push({
        client,
        ...(side ? { side } : {}),
        torrents,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return {
    torrents,
    totalSize: `${(total / MiB).toFixed(0)} MiB`,
    idleSeconds: options.idleSeconds,
    results,
    ...(options.transmissionSkipped !== undefined ? { skipped: options.transmissionSkipped } : {}),
  };
}

const ratio = (ours: number | undefined, theirs: number | undefined) =>
  ours === undefined || theirs === undefined || theirs === 0 ? '–' : `${(ours / theirs).toFixed(2)}×`;

export function renderScale(info: ScaleRowInfo | undefined): string[] {
  if (!info) return [];
  const ours =
    info.results.find((r) => r.client === 'lodestone' && !r.error) ??
    info.results.find((r) => r.client === 'lodestone');
  const theirs = info.results.find((r) => r.client === 'transmission');
  const label = (r: ScaleSideResult) =>
    r.side === 'daemon'
      ? 'lodestone daemon'
      : r.side === 'client'
        ? 'lodestone Client'
        : r.client === 'transmission'
          ? 'transmission-daemon'
          : r.client;
  const rows = info.results.map((r) => [
    label(r),
    r.error ? `**failed**: ${r.error}` : 'ok',
    cell(r.addSeconds),
    cell(r.firstStartSeconds),
    cell(r.restartSeconds),
    r.restartPiecesHashed === undefined ? '–' : String(r.restartPiecesHashed),
    cell(r.rssMiB),
    cell(r.peakRssMiB),
    cell(r.idleCpuPercent),
    r.openFiles === undefined ? '–' : String(r.openFiles),
  ]);
  if (ours && theirs)
    rows.push([
      `${label(ours)} ÷ Transmission`,
      '',
      ratio(ours.addSeconds, theirs.addSeconds),
      ratio(ours.firstStartSeconds, theirs.firstStartSeconds),
      ratio(ours.restartSeconds, theirs.restartSeconds),
      '',
      ratio(ours.rssMiB, theirs.rssMiB),
      ratio(ours.peakRssMiB, theirs.peakRssMiB),
      ratio(ours.idleCpuPercent, theirs.idleCpuPercent),
      '',
    ]);
  const targets =
    ours && !ours.error
      ? `Targets at 1,000 torrents: RSS ≤ 300 MiB (${(ours.rssMiB ?? 0) <= 300 ? 'held' : '**missed**'}), idle CPU ≤ 2 % (${(ours.idleCpuPercent ?? 0) <= 2 ? 'held' : '**missed**'}), restart ≤ 5 s (${(ours.restartSeconds ?? 0) <= 5 ? 'held' : '**missed**'})${info.torrents < 1000 ? ` — this run had ${info.torrents}` : ''}.`
      : '';
  return [
    '',
    `### Scale: ${info.torrents} small torrents seeded by one process (${info.totalSize}, no trackers, no DHT, idle CPU over ${info.idleSeconds} s)`,
    '',
    table(
      [
        'client',
        'ok',
        'add over RPC s',
        'first start s',
        'restart s',
        'hashed at restart',
        'RSS MiB',
        'peak RSS MiB',
        'idle CPU %',
        'open files',
      ],
      rows,
    ),
    ...(targets ? ['', targets] : []),
    ...(info.skipped ? ['', `transmission-daemon not run: ${info.skipped}.`] : []),
  ];
}

/**
 * `node dist/bench/scale-row.js <n> [idle seconds] [--no-transmission] [--scale-side daemon|client|both]`:
 * the row alone, printed as Markdown.
 */
async function standalone(): Promise<void> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const torrents = Number(process.argv[2] ?? 200);
  const idleSeconds = Number(process.argv[3] ?? 10);
  const sideAt = process.argv.indexOf('--scale-side');
  const sides = scaleSides(sideAt < 0 ? undefined : (process.argv[sideAt + 1] ?? ''));
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-scale-'));
  const steps: (() => Promise<void>)[] = [];
  try {
    const info = await scaleRow({
      dir,
      torrents,
      idleSeconds,
      sides,
      ...(process.argv.includes('--no-transmission')
        ? { transmissionSkipped: 'left out (--no-transmission)' }
        : {}),
      register: (_what, step) => {
        let done: Promise<void> | undefined;
        const run = () => (done ??= step());
        steps.push(run);
        return run;
      },
      log: (text) => process.stderr.write(`${text}\n`),
    });
    process.stdout.write(`${renderScale(info).join('\n')}\n`);
  } finally {
    for (const step of steps.reverse()) await step();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await standalone();
