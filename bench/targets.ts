/**
 * The project's targets for the Lodestone leecher, as ratios to another
 * leecher measured in the same round, judged only on swarms without a
 * Lodestone seeder (issue 14: a Lodestone seeder on loopback serves a
 * Lodestone leecher well and would flatter it).
 */
import type { RatioSummary, Spread } from './report.js';

/** Whether a Lodestone seeder took part: such rows are reported, never used for the targets. */
export function hasLodestoneSeeder(seeders: string): boolean {
  return seeders.split('+').includes('lodestone');
}

export interface Target {
  label: string;
  other: string;
  metric: 'throughput' | 'cpu' | 'rss';
  /** 'min': the ratio must be at least `bound`; 'max': at most. */
  kind: 'min' | 'max';
  bound: number;
}

export const TARGETS: readonly Target[] = [
  { label: 'throughput ≥ 1.25× aria2', other: 'aria2', metric: 'throughput', kind: 'min', bound: 1.25 },
  {
    label: 'throughput ≥ 1.5× WebTorrent',
    other: 'webtorrent',
    metric: 'throughput',
    kind: 'min',
    bound: 1.5,
  },
  { label: 'CPU per GiB ≤ aria2', other: 'aria2', metric: 'cpu', kind: 'max', bound: 1 },
  { label: 'peak RSS ≤ 0.5× WebTorrent', other: 'webtorrent', metric: 'rss', kind: 'max', bound: 0.5 },
];

export interface TargetResult {
  target: string;
  /** The swarm it was judged on (never one with a Lodestone seeder). */
  seeders: string;
  source: string;
  ratio: Spread;
  /** The median meets the target. */
  met: boolean;
  /** Every round meets it (the worst round: min for 'min' targets, max for 'max'). */
  everyRound: boolean;
}

/**
 * The targets, judged on the swarm ratios of swarms without a Lodestone
 * seeder only: a Lodestone seeder on loopback serves a Lodestone leecher
 * faster than any other client does and would flatter it.
 */
export function evaluateTargets(swarmRatios: RatioSummary[]): TargetResult[] {
  const results: TargetResult[] = [];
  for (const r of swarmRatios) {
    if (hasLodestoneSeeder(r.seeders)) continue;
    for (const target of TARGETS.filter((t) => t.other === r.other)) {
      const ratio = r[target.metric];
      if (ratio === undefined) continue;
      const meets = (value: number) =>
        target.kind === 'min' ? value >= target.bound : value <= target.bound;
      results.push({
        target: target.label,
        seeders: r.seeders,
        source: r.context,
        ratio,
        met: meets(ratio.median),
        everyRound: meets(target.kind === 'min' ? ratio.min : ratio.max),
      });
    }
  }
  return results;
}
