/**
 * When a seeding torrent stops: its seed ratio and seed idle-time limits, per torrent or global,
 * as Transmission 4 computes them (docs/queue.md). Pure: the caller passes the facts and `now`.
 *
 * - Ratio: `uploadedEver / sizeWhenDone` (Transmission 4; 3.00 divided by the bytes downloaded
 *   when there were any). The goal is `floor(sizeWhenDone × limit)` bytes uploaded.
 * - Idle: no payload activity for the limit's minutes, counted from the later of the last start
 *   and the last activity (src/policy/torrent-activity.ts).
 * - Both apply only to a running torrent whose wanted pieces are all verified (a partial seed counts).
 */
import { type ActivityFacts, idleSince } from './torrent-activity.js';

/** What a torrent's limit follows: the global setting, its own value, or none (as `LimitMode` in the daemon). */
export type SeedLimitMode = 'global' | 'single' | 'unlimited';

/** The global limits, with Transmission's `settings.json` names. */
export interface SeedLimitSettings {
  'ratio-limit': number;
  'ratio-limit-enabled': boolean;
  /** Minutes. */
  'idle-seeding-limit': number;
  'idle-seeding-limit-enabled': boolean;
}

/** One torrent's facts and its own limits (`TorrentSettings` in the daemon). */
export interface SeedFacts extends ActivityFacts {
  /** Every wanted piece is verified. */
  done: boolean;
  /** Bytes uploaded over the torrent's whole life (all sessions). */
  uploadedEver: number;
  /** Bytes of the wanted files. */
  sizeWhenDone: number;
  /** Verified bytes (a torrent with nothing verified is never "finished"). */
  haveValid: number;
  seedRatioMode: SeedLimitMode;
  seedRatioLimit: number;
  seedIdleMode: SeedLimitMode;
  /** Minutes. */
  seedIdleLimit: number;
}

/** Transmission's ratio value when nothing was uploaded and there is nothing to divide by. */
export const RATIO_NOT_AVAILABLE = -1;
/** Transmission's ratio value when something was uploaded and there is nothing to divide by. */
export const RATIO_INFINITE = -2;

const MINUTE_MS = 60_000;

/** The upload ratio as Transmission 4 shows it (`uploadRatio`): uploaded / size when done. */
export function uploadRatio(uploadedEver: number, sizeWhenDone: number): number {
  if (sizeWhenDone > 0) return uploadedEver / sizeWhenDone;
  return uploadedEver > 0 ? RATIO_INFINITE : RATIO_NOT_AVAILABLE;
}

/** The ratio limit that applies, or `undefined` when none does. */
export function effectiveSeedRatio(
  facts: Pick<SeedFacts, 'seedRatioMode' | 'seedRatioLimit'>,
  settings: SeedLimitSettings,
): number | undefined {
  if (facts.seedRatioMode === 'single') return facts.seedRatioLimit;
  if (facts.seedRatioMode === 'global' && settings['ratio-limit-enabled']) return settings['ratio-limit'];
  return undefined;
}

/** The idle limit that applies in minutes, or `undefined` when none does. */
export function effectiveIdleMinutes(
  facts: Pick<SeedFacts, 'seedIdleMode' | 'seedIdleLimit'>,
  settings: SeedLimitSettings,
): number | undefined {
  if (facts.seedIdleMode === 'single') return facts.seedIdleLimit;
  if (facts.seedIdleMode === 'global' && settings['idle-seeding-limit-enabled'])
    return settings['idle-seeding-limit'];
  return undefined;
}

/** Bytes still to upload before the ratio limit is reached; `undefined` when no ratio limit applies. */
export function ratioBytesLeft(facts: SeedFacts, settings: SeedLimitSettings): number | undefined {
  const ratio = effectiveSeedRatio(facts, settings);
  if (ratio === undefined) return undefined;
  const goal = Math.floor(Math.max(0, facts.sizeWhenDone) * Math.max(0, ratio));
  return Math.max(0, goal - facts.uploadedEver);
}

/** Done and the ratio limit reached (Transmission's `tr_torrentIsSeedRatioDone`). */
export function seedRatioDone(facts: SeedFacts, settings: SeedLimitSettings): boolean {
  return facts.done && ratioBytesLeft(facts, settings) === 0;
}

/** What the daemon does with a seeding torrent now. */
export interface SeedLimitVerdict {
  /** Stop now, and why; `undefined` to keep seeding. */
  stop: 'ratio' | 'idle' | undefined;
  /** Bytes to upload until the ratio stops it (check again when the upload total passes it). */
  ratioBytesLeft: number | undefined;
  /** When the idle limit stops it if nothing is uploaded (ms): one timer; activity moves it. */
  idleDeadline: number | undefined;
}

/**
 * Should this torrent stop seeding now? Only a running, done torrent is ever stopped; the ratio
 * is checked first, then the idle limit (Transmission's order). When it is stopped for idle, the
 * daemon marks it finished (see {@link isFinished}).
 */
export function checkSeedLimits(
  facts: SeedFacts,
  settings: SeedLimitSettings,
  now: number,
): SeedLimitVerdict {
  const left = ratioBytesLeft(facts, settings);
  const idleMinutes = effectiveIdleMinutes(facts, settings);
  const since = idleSince(facts);
  const idleDeadline =
    idleMinutes === undefined || since === undefined
      ? undefined
      : since + Math.max(0, idleMinutes) * MINUTE_MS;
  if (!facts.running || !facts.done) return { stop: undefined, ratioBytesLeft: left, idleDeadline };
  if (left === 0) return { stop: 'ratio', ratioBytesLeft: 0, idleDeadline };
  if (idleDeadline !== undefined && now >= idleDeadline)
    return { stop: 'idle', ratioBytesLeft: left, idleDeadline };
  return { stop: undefined, ratioBytesLeft: left, idleDeadline };
}

/**
 * `isFinished` for `torrent-get`: seeding ended by the idle limit (the daemon remembers that
 * until the next start), or the ratio limit is reached with something verified.
 */
export function isFinished(facts: SeedFacts, settings: SeedLimitSettings, stoppedByIdle: boolean): boolean {
  if (stoppedByIdle) return true;
  return facts.done && facts.haveValid > 0 && ratioBytesLeft(facts, settings) === 0;
}

/**
 * A user start of a torrent whose ratio is already reached would stop again at once; as
 * Transmission does, such a start turns its ratio limit off. Returns the settings change to
 * apply before starting, or `undefined` when none is needed.
 */
export function ratioModeOnManualStart(
  facts: SeedFacts,
  settings: SeedLimitSettings,
): { seedRatioMode: 'unlimited' } | undefined {
  return seedRatioDone(facts, settings) ? { seedRatioMode: 'unlimited' } : undefined;
}
