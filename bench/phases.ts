/**
 * The download phases of the benchmark: a swarm of several seeders (by
 * default other clients only: aria2, qBittorrent, Transmission) with every
 * leecher downloading in turn (rounds rotate the order); the same swarm plus
 * a Lodestone seeder, reported as its own rows; and each seeder alone
 * serving the same leechers. A failed download is recorded and the phase
 * goes on; Ctrl-C (`aborted()`) ends it at once.
 */
import type { RunningOpentracker } from '../test/helpers/opentracker.js';
import { type DownloadKind, type SourceKind, timedDownload } from './clients.js';
import { type Cleanup, delay, GiB, MiB } from './measure.js';
import { type DownloadRecord, rates } from './report.js';
import { type BenchTorrent, type LeecherKind, type SeederKind, startSeeder } from './swarm.js';

export interface PhaseConfig {
  runs: number;
  seeders: SeederKind[];
  leechers: LeecherKind[];
  sources: SourceKind[];
  /**
   * Leechers of the second swarm phase: the --seeders swarm plus a Lodestone
   * seeder (a Lodestone leecher fetches most of its bytes from it on loopback,
   * so it is reported apart and never used for the targets). Empty: skipped.
   */
  lodestoneSeederLeechers: LeecherKind[];
  soloSeeders: SeederKind[];
  soloLeechers: LeecherKind[];
  verify: boolean;
  timeoutMs: number;
  /**
   * Idle pause before each download. Writing into the page cache costs up to
   * ~8× more system CPU on a VM whose balloon driver has handed freed memory
   * back to the host (free page reporting, ~2 s after the previous download's
   * files were deleted) than while that memory is still mapped: without the
   * pause, whichever client runs right after a deletion is billed less.
   */
  settleMs: number;
}

/** Round r runs the list rotated by r, so no client always goes first (warm caches, a fresh tracker). */
export function rotate<T>(items: T[], round: number): T[] {
  const shift = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export interface Phase {
  torrent: BenchTorrent;
  tracker: RunningOpentracker;
  workDir: string;
  cleanup: Cleanup;
  config: PhaseConfig;
  log: (text: string) => void;
  records: DownloadRecord[];
  aborted: () => boolean;
}

/** CPU seconds of the seeders so far: all together, and by seeder kind where the caller tells. */
export interface SeederCpu {
  cpuSeconds: number;
  byKind?: Record<string, number>;
}

/** Each kind's CPU between two samples, per GiB of `totalBytes` (pure). */
export function cpuPerGiBByKind(
  before: Record<string, number>,
  after: Record<string, number>,
  totalBytes: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [kind, seconds] of Object.entries(after)) {
    out[kind] = (seconds - (before[kind] ?? 0)) / (totalBytes / GiB);
  }
  return out;
}

/** One download recorded into `phase.records`; a failure is recorded and logged, never thrown (except on Ctrl-C). */
export async function download(
  phase: Phase,
  base: Pick<
    DownloadRecord,
    'phase' | 'seeders' | 'leecher' | 'source' | 'round' | 'encryption' | 'transport'
  >,
  seederSample?: () => Promise<SeederCpu | undefined>,
  peers?: { host: string; port: number }[],
  /** More `lodestone download` switches, after the encryption row's. */
  lodestoneArgs?: string[],
): Promise<void> {
  const { torrent, config } = phase;
  const label = `${base.phase} [${base.seeders}] round ${base.round}/${config.runs}: ${base.leecher} (${base.source}${base.encryption !== undefined ? `, --encryption ${base.encryption}` : ''}${base.transport !== undefined ? `, ${base.transport} only` : ''})`;
  const extraArgs = [
    ...(base.encryption !== undefined && base.leecher === 'lodestone'
      ? ['--encryption', base.encryption]
      : []),
    ...(lodestoneArgs ?? []),
  ];
  if (config.settleMs > 0) await delay(config.settleMs);
  const seederBefore = await seederSample?.();
  let seederAfter: SeederCpu | undefined;
  try {
    const m = await timedDownload({
      kind: base.leecher as DownloadKind,
      ...(peers !== undefined ? { peers } : {}),
      ...(extraArgs.length > 0 ? { lodestoneArgs: extraArgs } : {}),
      ...(base.leecher === 'libtorrent' && base.transport !== undefined
        ? { libtorrentTransport: base.transport }
        : {}),
      ...(base.leecher === 'libtorrent' && base.encryption !== undefined
        ? { libtorrentEncryption: base.encryption }
        : {}),
      source: base.source,
      torrent,
      workDir: phase.workDir,
      cleanup: phase.cleanup,
      timeoutMs: config.timeoutMs,
      verify: config.verify,
      onComplete: async () => {
        seederAfter = await seederSample?.();
      },
    });
    const record: DownloadRecord = {
      ...base,
      ok: true,
      wallSeconds: m.wallSeconds,
      ...rates(torrent.totalSize, m.wallSeconds, m.leecher.cpuSeconds),
      cpuSeconds: m.leecher.cpuSeconds,
      cpuUserSeconds: m.leecher.userSeconds,
      cpuSystemSeconds: m.leecher.systemSeconds,
      peakRssMiB: m.leecher.peakRssBytes / MiB,
      ...(m.metadataSeconds !== undefined ? { metadataSeconds: m.metadataSeconds } : {}),
      ...(m.peersByEncryption !== undefined ? { peersByEncryption: m.peersByEncryption } : {}),
      ...(m.peersByTransport !== undefined ? { peersByTransport: m.peersByTransport } : {}),
      ...(seederBefore && seederAfter
        ? {
            seederCpuSecondsPerGiB:
              (seederAfter.cpuSeconds - seederBefore.cpuSeconds) / (torrent.totalSize / GiB),
            ...(seederBefore.byKind && seederAfter.byKind
              ? {
                  seederCpuByKind: cpuPerGiBByKind(
                    seederBefore.byKind,
                    seederAfter.byKind,
                    torrent.totalSize,
                  ),
                }
              : {}),
          }
        : {}),
    };
    phase.records.push(record);
    phase.log(
      `${label}: ${record.wallSeconds!.toFixed(2)} s, ${record.mibPerSecond!.toFixed(1)} MiB/s, ` +
        `CPU ${record.cpuSeconds!.toFixed(2)} s, RSS ${record.peakRssMiB!.toFixed(0)} MiB` +
        (record.metadataSeconds !== undefined ? `, metadata ${record.metadataSeconds.toFixed(2)} s` : ''),
    );
  } catch (error) {
    if (phase.aborted()) throw error;
    const message = (error as Error).message.split('\n').slice(0, 3).join(' ');
    phase.records.push({ ...base, ok: false, error: message });
    phase.log(`${label}: FAILED: ${message}`);
  }
}

export async function swarmPhase(phase: Phase): Promise<void> {
  const { config } = phase;
  if (config.seeders.length === 0 || config.sources.length === 0) return;
  const withLodestone = config.seeders.includes('lodestone') ? [] : config.lodestoneSeederLeechers;
  if (config.leechers.length === 0 && withLodestone.length === 0) return;
  phase.log(`starting seeders: ${config.seeders.join(', ')}`);
  const seeders = await Promise.all(
    config.seeders.map((kind) =>
      startSeeder(kind, phase.torrent, phase.tracker, phase.cleanup, config.timeoutMs),
    ),
  );
  try {
    await swarmRounds(phase, config.seeders.join('+'), config.leechers);
    if (withLodestone.length === 0 || phase.aborted()) return;
    // The same swarm plus a Lodestone seeder: its rows and ratios are reported apart.
    phase.log('adding a Lodestone seeder to the swarm');
    seeders.push(
      await startSeeder('lodestone', phase.torrent, phase.tracker, phase.cleanup, config.timeoutMs),
    );
    await swarmRounds(phase, [...config.seeders, 'lodestone'].join('+'), withLodestone);
  } finally {
    await Promise.all(seeders.map((seeder) => seeder.stop()));
  }
}

async function swarmRounds(phase: Phase, seeders: string, leechers: LeecherKind[]): Promise<void> {
  const { config } = phase;
  const combos = leechers.flatMap((leecher) => config.sources.map((source) => ({ leecher, source })));
  for (let round = 1; round <= config.runs; round++) {
    for (const { leecher, source } of rotate(combos, round - 1)) {
      if (phase.aborted()) return;
      await download(phase, { phase: 'swarm', seeders, leecher, source, round });
    }
  }
}

export async function soloPhase(phase: Phase): Promise<void> {
  const { config } = phase;
  if (config.soloLeechers.length === 0) return;
  for (const kind of config.soloSeeders) {
    if (phase.aborted()) return;
    phase.log(`starting ${kind} as the only seeder`);
    const seeder = await startSeeder(kind, phase.torrent, phase.tracker, phase.cleanup, config.timeoutMs);
    try {
      for (let round = 1; round <= config.runs; round++) {
        for (const leecher of rotate(config.soloLeechers, round - 1)) {
          if (phase.aborted()) return;
          const base = { phase: 'solo', seeders: kind, leecher, source: 'torrent', round } as const;
          await download(phase, base, () => seeder.sample());
        }
      }
    } finally {
      await seeder.stop();
    }
  }
}
