/**
 * The report's sections for the rows of bench/rows.ts: the many-files row
 * (each leecher's wall time, CPU and peak RSS, and Lodestone's ratios to aria2
 * and libtorrent in the same round) and the big-pieces row (Lodestone's peak
 * RSS with 16 MiB pieces against the documented piece-buffer bound on top of
 * its peak RSS with 256 KiB pieces in the same run).
 */
import { judgeBudget } from './budget.js';
import { renderDhtRow } from './dht-row.js';
import { renderEncryption } from './encryption-row.js';
import { renderManyPeers } from './many-peers-row.js';
import { MiB } from './measure.js';
import { type BenchReport, cell, digits, ratios, spread, summarize, table } from './report.js';
import { renderScale } from './scale-row.js';
import { hasLodestoneSeeder } from './targets.js';
import { renderUtp } from './utp-row.js';

const mib = (bytes: number) => `${digits(bytes / MiB)}`;

/**
 * Lodestone's peak RSS (MiB, median) downloading the .torrent from the swarm
 * of other clients in this run: the baseline the big-pieces row adds its
 * piece-buffer bound to.
 */
export function swarmBaselineRssMiB(report: BenchReport): number | undefined {
  return spread(
    report.records
      .filter(
        (r) =>
          r.ok &&
          r.phase === 'swarm' &&
          r.leecher === 'lodestone' &&
          r.source === 'torrent' &&
          !hasLodestoneSeeder(r.seeders),
      )
      .map((r) => r.peakRssMiB),
  )?.median;
}

export function renderRows(report: BenchReport): string[] {
  const parts: string[] = [];
  const summaries = summarize(report.records);
  const many = summaries.filter((s) => s.phase === 'many-files');
  const info = report.rows ?? {};
  if (many.length > 0) {
    const m = info.manyFiles;
    parts.push(
      '',
      `## Many files${m ? `: ${m.files} files, ${m.totalSize}, pieces of ${m.pieceLength}, seeded by ${m.seeder}` : ''} (from the .torrent; median, min–max)`,
      '',
      table(
        ['leecher', 'ok', 'wall s', 'MiB/s', 'CPU s', 'peak RSS MiB'],
        many.map((s) => [
          s.leecher,
          s.failed > 0 ? `${s.ok}/${s.ok + s.failed}` : String(s.ok),
          cell(s.wallSeconds),
          cell(s.mibPerSecond),
          cell(s.cpuSeconds),
          cell(s.peakRssMiB),
        ]),
      ),
    );
    const manyRatios = ratios(report.records, 'many-files');
    if (manyRatios.length > 0) {
      parts.push(
        '',
        '### Lodestone ÷ other leecher, same round (time, CPU, RSS < 1: Lodestone faster or cheaper)',
        '',
        table(
          ['vs', 'wall time ratio', 'CPU ratio', 'peak RSS ratio'],
          manyRatios.map((r) => [r.other, cell(r.wall), cell(r.cpu), cell(r.rss)]),
        ),
      );
    }
    if (many.some((s) => s.leecher === 'libtorrent')) {
      parts.push(
        '',
        'libtorrent 2.0 reads and writes through memory-mapped files: the pages of downloaded files it touched count in its peak RSS (VmHWM), so its figure is not anonymous memory alone.',
      );
    }
  }
  const big = summaries.filter((s) => s.phase === 'big-pieces');
  if (big.length > 0) {
    const b = info.bigPieces;
    const baseline = swarmBaselineRssMiB(report);
    parts.push(
      '',
      `## Big pieces${b ? `: ${b.totalSize} in pieces of ${b.pieceLength}, from ${b.seeders}` : ''} (from the .torrent; median, min–max)`,
      '',
    );
    if (b !== undefined) {
      const bound = b.bound;
      parts.push(
        `Documented bound of piece buffers at this piece length (memoryBudget ${mib(bound.memoryBudget)} MiB, src/session/memory-bounds.ts): ` +
          `${mib(bound.partialBytes)} MiB partial pieces + ${mib(bound.spareBytes)} MiB spare buffers + ` +
          `${mib(bound.pendingBytes)} MiB waiting for the hash check or the disk = ${mib(bound.totalBytes)} MiB. ` +
          'Budget = Lodestone’s peak RSS with 256 KiB pieces from the swarm of other clients in this run + that bound; ' +
          'every round’s peak RSS must be within it.',
        '',
      );
    }
    parts.push(
      table(
        [
          'leecher',
          'ok',
          'wall s',
          'MiB/s',
          'peak RSS MiB',
          'baseline RSS MiB (256 KiB pieces)',
          'budget MiB',
          'held',
        ],
        big.map((s) => {
          const worst = s.peakRssMiB?.max;
          const verdict = b === undefined ? {} : judgeBudget(worst, baseline, b.bound);
          return [
            s.leecher,
            s.failed > 0 ? `${s.ok}/${s.ok + s.failed}` : String(s.ok),
            cell(s.wallSeconds),
            cell(s.mibPerSecond),
            cell(s.peakRssMiB),
            baseline === undefined ? '– (no swarm phase in this run)' : digits(baseline),
            verdict.budgetMiB === undefined ? '–' : digits(verdict.budgetMiB),
            verdict.held === undefined ? 'not judged' : verdict.held ? 'yes' : '**no**',
          ];
        }),
      ),
    );
  }
  parts.push(...renderEncryption(report.records, info.encryption));
  parts.push(...renderUtp(report.records, info.utp));
  if (info.dht) {
    parts.push('', '### DHT: trackerless magnet on a loopback DHT of real nodes', '');
    parts.push(info.dht.skipped ? `Not run: ${info.dht.skipped}.` : renderDhtRow(info.dht.records));
  }
  parts.push(...renderScale(info.scale));
  parts.push(...renderManyPeers(info.manyPeers));
  return parts;
}
