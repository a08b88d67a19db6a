/**
 * Turns the benchmark's raw records into the report: per-client medians with
 * min–max, Lodestone's ratios to every other client measured in the same
 * round, and the micro-benchmarks; as Markdown (stdout and latest.md) and
 * JSON (latest.json, raw records included).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceKind } from './clients.js';
import { summarizeEncryption } from './encryption-row.js';
import { GiB, MiB } from './measure.js';
import type { MicroResult } from './micro.js';
import { renderRows } from './report-rows.js';
import type { RowsInfo } from './rows.js';
import { evaluateTargets, hasLodestoneSeeder } from './targets.js';
import { summarizeUtp } from './utp-row.js';

export interface DownloadRecord {
  /**
   * 'swarm': several seeders at once; 'solo': one seeder alone; 'many-files' and
   * 'big-pieces', 'encryption', 'utp': the rows of bench/rows.ts (their own torrents, reported apart).
   */
  phase: 'swarm' | 'solo' | 'many-files' | 'big-pieces' | 'encryption' | 'utp';
  /** The encryption row: Lodestone's `--encryption` for this download. */
  encryption?: 'require' | 'disable';
  /** The uTP row: the only transport the download may use. */
  transport?: 'utp' | 'tcp';
  /** Lodestone leechers: distinct peers connected, by encryption (e.g. { rc4: 3 }). */
  peersByEncryption?: Record<string, number>;
  /** Lodestone leechers: the same peers by transport (e.g. { utp: 1 }). */
  peersByTransport?: Record<string, number>;
  /**
   * The seeders, e.g. 'aria2+qbittorrent+transmission' (the swarm of other
   * clients, on which the targets are judged), 'aria2+qbittorrent+transmission+lodestone'
   * (the same with a Lodestone seeder, reported apart) or 'lodestone' (solo).
   */
  seeders: string;
  leecher: string;
  source: SourceKind;
  round: number;
  ok: boolean;
  error?: string;
  wallSeconds?: number;
  mibPerSecond?: number;
  metadataSeconds?: number;
  cpuSeconds?: number;
  /** The user and system parts of cpuSeconds (JSON only). */
  cpuUserSeconds?: number;
  cpuSystemSeconds?: number;
  cpuSecondsPerGiB?: number;
  peakRssMiB?: number;
  /** Solo phase: CPU the seeder spent while serving this download, per GiB. */
  seederCpuSecondsPerGiB?: number;
  /** Encryption row: each seeder's part of seederCpuSecondsPerGiB, by seeder kind. */
  seederCpuByKind?: Record<string, number>;
}

export interface BenchReport {
  startedAt: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; loadAverageAtStart: number[] };
  config: Record<string, unknown>;
  versions: Record<string, string>;
  notes: string[];
  records: DownloadRecord[];
  micro: MicroResult[];
  /** The many-files and big-pieces rows' torrents and budget, when they ran. */
  rows?: RowsInfo;
  durationSeconds?: number;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const sorted = values
    .filter((v): v is number => v !== undefined && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length };
}

export function digits(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** '12.3 (11.9–13.0)', or just the number for one sample, '–' for none. */
export function cell(s: Spread | undefined, suffix = ''): string {
  if (s === undefined) return '–';
  if (s.n === 1 || s.min === s.max) return `${digits(s.median)}${suffix}`;
  return `${digits(s.median)}${suffix} (${digits(s.min)}–${digits(s.max)})`;
}

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export interface GroupSummary {
  phase: DownloadRecord['phase'];
  seeders: string;
  leecher: string;
  source: SourceKind;
  encryption?: DownloadRecord['encryption'];
  transport?: DownloadRecord['transport'];
  ok: number;
  failed: number;
  wallSeconds?: Spread;
  mibPerSecond?: Spread;
  metadataSeconds?: Spread;
  cpuSeconds?: Spread;
  cpuSecondsPerGiB?: Spread;
  peakRssMiB?: Spread;
  seederCpuSecondsPerGiB?: Spread;
}

export function summarize(records: DownloadRecord[]): GroupSummary[] {
  const groups = new Map<string, DownloadRecord[]>();
  for (const record of records) {
    const key = [
      record.phase,
      record.seeders,
      record.leecher,
      record.source,
      record.encryption ?? '',
      record.transport ?? '',
    ].join('|');
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    const ok = group.filter((r) => r.ok);
    const of = (field: keyof DownloadRecord) => spread(ok.map((r) => r[field] as number | undefined));
    return {
      phase: first.phase,
      seeders: first.seeders,
      leecher: first.leecher,
      source: first.source,
      ...(first.encryption !== undefined ? { encryption: first.encryption } : {}),
      ...(first.transport !== undefined ? { transport: first.transport } : {}),
      ok: ok.length,
      failed: group.length - ok.length,
      wallSeconds: of('wallSeconds'),
      mibPerSecond: of('mibPerSecond'),
      metadataSeconds: of('metadataSeconds'),
      cpuSeconds: of('cpuSeconds'),
      cpuSecondsPerGiB: of('cpuSecondsPerGiB'),
      peakRssMiB: of('peakRssMiB'),
      seederCpuSecondsPerGiB: of('seederCpuSecondsPerGiB'),
    };
  });
}

export interface RatioSummary {
  /** Swarm: the seeders of the swarm the ratios were measured on; solo: ''. */
  seeders: string;
  /** What is compared: the other leecher (swarm) or the other seeder (solo). */
  other: string;
  /** The fixed side: source (swarm) or leecher (solo). */
  context: string;
  throughput?: Spread;
  /** Wall time (< 1: Lodestone took less time). */
  wall?: Spread;
  cpu?: Spread;
  rss?: Spread;
  seederCpu?: Spread;
}

/**
 * Lodestone ÷ other, computed within each round (same swarm, same minute),
 * then median and range over rounds. Throughput > 1: Lodestone is faster;
 * CPU and RSS < 1: Lodestone is cheaper. Swarm ratios are kept apart per
 * set of seeders (the swarm of other clients, and the same plus a Lodestone
 * seeder).
 */
export function ratios(records: DownloadRecord[], phase: DownloadRecord['phase']): RatioSummary[] {
  const ok = records.filter((r) => r.ok && r.phase === phase);
  // swarm (and the rows): compare leechers for the same seeders and source; solo: compare seeders for the same leecher.
  const leechers = phase !== 'solo';
  const swarmOf = (r: DownloadRecord) => (leechers ? r.seeders : '');
  const contextOf = (r: DownloadRecord) => (leechers ? r.source : r.leecher);
  const sideOf = (r: DownloadRecord) => (leechers ? r.leecher : r.seeders);
  const out: RatioSummary[] = [];
  for (const seeders of new Set(ok.map(swarmOf))) {
    const inSwarm = ok.filter((r) => swarmOf(r) === seeders);
    for (const context of new Set(inSwarm.map(contextOf))) {
      const inContext = inSwarm.filter((r) => contextOf(r) === context);
      const others = [...new Set(inContext.map(sideOf))].filter((side) => side !== 'lodestone');
      for (const other of others) {
        const pairs: [DownloadRecord, DownloadRecord][] = [];
        for (const mine of inContext.filter((r) => sideOf(r) === 'lodestone')) {
          const theirs = inContext.find((r) => sideOf(r) === other && r.round === mine.round);
          if (theirs !== undefined) pairs.push([mine, theirs]);
        }
        if (pairs.length === 0) continue;
        const ratio = (field: keyof DownloadRecord) =>
          spread(
            pairs.map(([mine, theirs]) => {
              const a = mine[field] as number | undefined;
              const b = theirs[field] as number | undefined;
              return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
            }),
          );
        out.push({
          seeders,
          other,
          context,
          throughput: ratio('mibPerSecond'),
          wall: ratio('wallSeconds'),
          cpu: ratio('cpuSeconds'),
          rss: ratio('peakRssMiB'),
          seederCpu: ratio('seederCpuSecondsPerGiB'),
        });
      }
    }
  }
  return out;
}

export function renderMarkdown(report: BenchReport): string {
  const parts: string[] = [];
  const c = report.config;
  parts.push(
    '# Lodestone benchmark',
    '',
    `${report.startedAt} · ${report.machine.cpu} × ${report.machine.cores} · ${report.machine.memoryGiB} GiB RAM · ` +
      `Node ${report.machine.node} · load average at start ${report.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
    '',
  );
  if (report.records.some((r) => r.phase === 'swarm' || r.phase === 'solo')) {
    parts.push(
      `Content: ${c.size} in ${c.files} file(s), ${c.pieces} pieces of ${c.pieceLength}; rounds: ${c.runs}; ` +
        `verification: ${c.verification}.`,
    );
  }
  parts.push(
    `Versions: ${Object.entries(report.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(' · ')}`,
  );
  if (report.notes.length > 0) parts.push('', ...report.notes.map((note) => `- ${note}`));

  const summaries = summarize(report.records);
  const swarm = summaries.filter((s) => s.phase === 'swarm');
  const swarmRatios = ratios(report.records, 'swarm');
  // The swarm of other clients first (the targets are judged there), then any with a Lodestone seeder.
  const swarms = [...new Set(swarm.map((s) => s.seeders))].sort(
    (x, y) => Number(hasLodestoneSeeder(x)) - Number(hasLodestoneSeeder(y)),
  );
  for (const seeders of swarms) {
    const rows = swarm.filter((s) => s.seeders === seeders);
    const title = hasLodestoneSeeder(seeders)
      ? `## Swarm with a Lodestone seeder: ${seeders} (not used for the targets; median, min–max)`
      : `## Swarm of other clients: ${seeders} (median, min–max)`;
    parts.push(
      '',
      title,
      '',
      table(
        ['leecher', 'source', 'ok', 'wall s', 'MiB/s', 'CPU s', 'CPU s/GiB', 'peak RSS MiB', 'metadata s'],
        rows.map((s) => [
          s.leecher,
          s.source,
          s.failed > 0 ? `${s.ok}/${s.ok + s.failed}` : String(s.ok),
          cell(s.wallSeconds),
          cell(s.mibPerSecond),
          cell(s.cpuSeconds),
          cell(s.cpuSecondsPerGiB),
          cell(s.peakRssMiB),
          s.source === 'magnet' ? cell(s.metadataSeconds) : '',
        ]),
      ),
    );
    const mine = swarmRatios.filter((r) => r.seeders === seeders);
    if (mine.length > 0) {
      parts.push(
        '',
        '### Lodestone ÷ other leecher, same round (throughput > 1: Lodestone faster; CPU, RSS < 1: Lodestone cheaper)',
        '',
        table(
          ['vs', 'source', 'throughput ratio', 'CPU ratio', 'RSS ratio'],
          mine.map((r) => [r.other, r.context, cell(r.throughput), cell(r.cpu), cell(r.rss)]),
        ),
      );
    }
  }
  if (swarm.length > 0) {
    const targets = evaluateTargets(swarmRatios);
    parts.push('', '## Targets (judged on the swarm without a Lodestone seeder)', '');
    if (targets.length === 0) {
      parts.push(
        'Not evaluated: no swarm without a Lodestone seeder with both Lodestone and the other leecher measured.',
      );
    } else {
      parts.push(
        table(
          ['target', 'source', 'ratio (median, min–max)', 'median meets it', 'every round meets it'],
          targets.map((t) => [
            t.target,
            t.source,
            cell(t.ratio),
            t.met ? 'yes' : '**no**',
            t.everyRound ? 'yes' : 'no',
          ]),
        ),
      );
    }
  }

  const solo = summaries.filter((s) => s.phase === 'solo');
  if (solo.length > 0) {
    parts.push(
      '',
      '## One seeder alone (from the .torrent; median, min–max)',
      '',
      table(
        ['seeder', 'leecher', 'ok', 'MiB/s', 'seeder CPU s/GiB', 'leecher CPU s/GiB'],
        solo.map((s) => [
          s.seeders,
          s.leecher,
          s.failed > 0 ? `${s.ok}/${s.ok + s.failed}` : String(s.ok),
          cell(s.mibPerSecond),
          cell(s.seederCpuSecondsPerGiB),
          cell(s.cpuSecondsPerGiB),
        ]),
      ),
    );
    const soloRatios = ratios(report.records, 'solo');
    if (soloRatios.length > 0) {
      parts.push(
        '',
        '### Lodestone seeder ÷ other seeder, same leecher and round',
        '',
        table(
          ['vs seeder', 'leecher', 'throughput ratio', 'seeder CPU ratio (per GiB)'],
          soloRatios.map((r) => [r.other, r.context, cell(r.throughput), cell(r.seederCpu)]),
        ),
      );
    }
  }

  parts.push(...renderRows(report));

  const failures = report.records.filter((r) => !r.ok);
  if (failures.length > 0) {
    parts.push('', '## Failures', '');
    for (const f of failures) {
      parts.push(`- ${f.phase} ${f.seeders} → ${f.leecher} (${f.source}, round ${f.round}): ${f.error}`);
    }
  }

  if (report.micro.length > 0) {
    parts.push(
      '',
      '## Micro-benchmarks (tinybench; time per operation: median, and best sample)',
      '',
      table(
        ['benchmark', 'per op', 'best', 'throughput (median)', 'samples'],
        report.micro.map((m) => [
          m.name,
          formatDuration(m.medianMs),
          formatDuration(m.bestMs),
          m.bytesPerOp !== undefined ? `${digits(m.bytesPerOp / MiB / (m.medianMs / 1000))} MiB/s` : m.rate,
          String(m.samples),
        ]),
      ),
    );
  }
  if (report.durationSeconds !== undefined)
    parts.push('', `Total run time: ${report.durationSeconds.toFixed(0)} s.`);
  return `${parts.join('\n')}\n`;
}

function formatDuration(ms: number): string {
  if (ms >= 1000) return `${digits(ms / 1000)} s`;
  if (ms >= 1) return `${digits(ms)} ms`;
  return `${digits(ms * 1000)} µs`;
}

/** Bytes per second → MiB/s and seconds per GiB helpers for records. */
export function rates(totalBytes: number, wallSeconds: number, cpuSeconds: number) {
  return {
    mibPerSecond: totalBytes / MiB / wallSeconds,
    cpuSecondsPerGiB: cpuSeconds / (totalBytes / GiB),
  };
}

export async function writeResults(dir: string, report: BenchReport, markdown: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const json = {
    ...report,
    summaries: summarize(report.records),
    ratios: {
      swarm: ratios(report.records, 'swarm'),
      solo: ratios(report.records, 'solo'),
      manyFiles: ratios(report.records, 'many-files'),
    },
    targets: evaluateTargets(ratios(report.records, 'swarm')),
    encryption: summarizeEncryption(report.records),
    /** --encryption-leechers libtorrent: the reference leecher's figures (not judged). */
    encryptionReference: summarizeEncryption(report.records, 'libtorrent'),
    utp: summarizeUtp(report.records),
  };
  await writeFile(join(dir, 'latest.json'), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(dir, 'latest.md'), markdown);
}
