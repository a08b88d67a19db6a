/**
 * How long a running torrent has been idle, and whether it is stalled: Transmission's rules
 * (docs/queue.md). Pure: times are clock readings in milliseconds passed in by the caller.
 *
 * A torrent's idle time is measured from the later of its last start and its last payload
 * activity (a block received or sent, either direction: for a downloader that is mostly
 * downloading, for a seeder uploading). Only a running torrent has an idle time.
 */

/** The facts about one torrent that its idle time needs. */
export interface ActivityFacts {
  /** Running (downloading or seeding) right now; waiting, stopped or checking torrents are not idle. */
  running: boolean;
  /** When it was last started (ms); `undefined` or 0 if never. */
  startedAt: number | undefined;
  /** When a payload block was last received or sent (ms); `undefined` or 0 if never. */
  lastActiveAt: number | undefined;
}

/** The settings the stalled rule reads, with Transmission's `settings.json` names. */
export interface StalledSettings {
  'queue-stalled-enabled': boolean;
  /** Minutes without payload activity after which a running torrent is stalled. */
  'queue-stalled-minutes': number;
}

const MINUTE_MS = 60_000;

/** The moment idle time counts from, or `undefined` when the torrent is not running or never started. */
export function idleSince(facts: ActivityFacts): number | undefined {
  if (!facts.running) return undefined;
  const latest = Math.max(facts.startedAt ?? -Infinity, facts.lastActiveAt ?? -Infinity);
  // 0 means "never", as in Transmission and the daemon's `startDate`/`activityDate`.
  return Number.isFinite(latest) && latest > 0 ? latest : undefined;
}

/** Milliseconds without payload activity (0 if the clock went back), or `undefined` when not running. */
export function idleMs(facts: ActivityFacts, now: number): number | undefined {
  const since = idleSince(facts);
  return since === undefined ? undefined : Math.max(now - since, 0);
}

/** The stall threshold in ms, or `undefined` when stalled detection is off. */
function stallAfterMs(settings: StalledSettings): number | undefined {
  if (!settings['queue-stalled-enabled']) return undefined;
  return Math.max(0, settings['queue-stalled-minutes']) * MINUTE_MS;
}

/**
 * Stalled: running, stalled detection on, and idle for at least `queue-stalled-minutes`
 * (Transmission's queue counts a torrent out at `idle >= minutes`; a clock that went back
 * counts as no idle time). A stalled torrent does not count against the download or seed queue.
 */
export function isStalled(facts: ActivityFacts, settings: StalledSettings, now: number): boolean {
  const at = stalledAt(facts, settings);
  return at !== undefined && now >= at;
}

/**
 * When the torrent will become stalled if nothing moves (ms), so the daemon can set one timer:
 * `undefined` when it is not running or detection is off; a time ≤ `now` when it already is.
 * Any payload activity moves it (call again after activity, or re-check when the timer fires).
 */
export function stalledAt(facts: ActivityFacts, settings: StalledSettings): number | undefined {
  const after = stallAfterMs(settings);
  const since = idleSince(facts);
  return after === undefined || since === undefined ? undefined : since + after;
}
