/**
 * The alternative ("turtle") speed limits: the weekly schedule, the user's toggle, and the limits
 * in force (docs/queue.md). Transmission's semantics; pure, with local time passed in.
 *
 * - The schedule turns the turtle limits on for `[begin, end)` minutes after midnight, starting
 *   on each day of the mask (Sunday = 1 … Saturday = 64). When `end <= begin` the window runs
 *   past midnight into the next day (`begin == end`: 24 hours), and the mask names the day it
 *   starts: Friday 22:00 → 06:00 with only Friday in the mask also covers Saturday 00:00–06:00,
 *   and Saturday's window wraps into Sunday.
 * - The schedule flips `alt-speed-enabled` only when its own answer changes (at a boundary, or
 *   when the schedule's settings change); a user toggle lasts until the next boundary.
 */

/** The settings read here, with Transmission's `settings.json` names (speeds in kB/s, 1000 bytes). */
export interface SpeedSettings {
  'speed-limit-down': number;
  'speed-limit-down-enabled': boolean;
  'speed-limit-up': number;
  'speed-limit-up-enabled': boolean;
  'alt-speed-down': number;
  'alt-speed-up': number;
  'alt-speed-enabled': boolean;
  'alt-speed-time-enabled': boolean;
  'alt-speed-time-begin': number;
  'alt-speed-time-end': number;
  'alt-speed-time-day': number;
}

export type AltSpeedScheduleSettings = Pick<
  SpeedSettings,
  'alt-speed-time-enabled' | 'alt-speed-time-begin' | 'alt-speed-time-end' | 'alt-speed-time-day'
>;

/** A local time: the weekday (0 = Sunday … 6 = Saturday) and minutes after local midnight. */
export interface LocalTime {
  weekday: number;
  minuteOfDay: number;
}

const MINUTES_PER_DAY = 1440;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/**
 * The local weekday and minute of a clock reading, for a zone `offsetMinutes` east of UTC
 * (CET = 60, New York in winter = -300). In the daemon: `-new Date(now).getTimezoneOffset()`,
 * read again at every call so daylight-saving changes are followed.
 */
export function localTime(epochMs: number, offsetMinutes: number): LocalTime {
  const localMinutes = Math.floor(epochMs / 60_000) + Math.round(offsetMinutes);
  // 1970-01-01 was a Thursday (weekday 4).
  const minuteOfWeek = mod(localMinutes + 4 * MINUTES_PER_DAY, MINUTES_PER_WEEK);
  return { weekday: Math.floor(minuteOfWeek / MINUTES_PER_DAY), minuteOfDay: minuteOfWeek % MINUTES_PER_DAY };
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

function clampMinute(minute: number): number {
  return Number.isFinite(minute) ? Math.min(Math.max(0, Math.floor(minute)), MINUTES_PER_DAY - 1) : 0;
}

/** Whether the schedule's window covers this minute of the week (ignores `alt-speed-time-enabled`). */
function windowCovers(settings: AltSpeedScheduleSettings, minuteOfWeek: number): boolean {
  const begin = clampMinute(settings['alt-speed-time-begin']);
  const endRaw = clampMinute(settings['alt-speed-time-end']);
  const length = (endRaw > begin ? endRaw : endRaw + MINUTES_PER_DAY) - begin;
  const mask = settings['alt-speed-time-day'];
  for (let day = 0; day < 7; day++) {
    if ((mask & (1 << day)) === 0) continue;
    const start = day * MINUTES_PER_DAY + begin;
    if (mod(minuteOfWeek - start, MINUTES_PER_WEEK) < length) return true;
  }
  return false;
}

/** What the schedule wants now: `undefined` when the schedule is off. */
export function scheduleWantsAlt(settings: AltSpeedScheduleSettings, now: LocalTime): boolean | undefined {
  if (!settings['alt-speed-time-enabled']) return undefined;
  return windowCovers(settings, mod(now.weekday, 7) * MINUTES_PER_DAY + clampMinute(now.minuteOfDay));
}

/**
 * Minutes from the start of `now`'s minute to the next minute at which the schedule's answer
 * changes; `undefined` when the schedule is off or never changes (empty mask, or on all week).
 */
export function minutesToNextChange(settings: AltSpeedScheduleSettings, now: LocalTime): number | undefined {
  if (!settings['alt-speed-time-enabled']) return undefined;
  const start = mod(now.weekday, 7) * MINUTES_PER_DAY + clampMinute(now.minuteOfDay);
  const current = windowCovers(settings, start);
  for (let step = 1; step <= MINUTES_PER_WEEK; step++) {
    if (windowCovers(settings, (start + step) % MINUTES_PER_WEEK) !== current) return step;
  }
  return undefined;
}

/** The turtle state the daemon keeps: whether it is on, and what the schedule last set. */
export interface AltSpeedState {
  /** `alt-speed-enabled`. */
  active: boolean;
  /** The schedule's last answer; `undefined` until it has one (or after its settings changed). */
  lastScheduled: boolean | undefined;
}

/**
 * One tick of the schedule (call it every minute, at start, and after `alt-speed-time-*` changed
 * with `lastScheduled` reset to `undefined`): when the schedule's answer differs from the one it
 * last gave, `active` follows it; otherwise `active` stays as it is, so a user toggle holds.
 */
export function altSpeedTick(
  state: AltSpeedState,
  settings: AltSpeedScheduleSettings,
  now: LocalTime,
): AltSpeedState & { changed: boolean } {
  const wants = scheduleWantsAlt(settings, now);
  if (wants === undefined || wants === state.lastScheduled) return { ...state, changed: false };
  return { active: wants, lastScheduled: wants, changed: wants !== state.active };
}

/** The user's toggle (`session-set` `alt-speed-enabled`): it holds until the schedule's next boundary. */
export function altSpeedToggle(state: AltSpeedState, active: boolean): AltSpeedState {
  return { active, lastScheduled: state.lastScheduled };
}

/** The global limits in force, in bytes per second; `undefined` = unlimited, 0 = nothing moves. */
export interface EffectiveLimits {
  downBytesPerSecond: number | undefined;
  upBytesPerSecond: number | undefined;
}

function kBps(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value * 1000) : 0;
}

/**
 * The global limits: the turtle limits when they are on (always limited, as in Transmission),
 * otherwise `speed-limit-*` when enabled. kB/s are 1000 bytes per second.
 */
export function effectiveLimits(
  settings: Pick<
    SpeedSettings,
    | 'speed-limit-down'
    | 'speed-limit-down-enabled'
    | 'speed-limit-up'
    | 'speed-limit-up-enabled'
    | 'alt-speed-down'
    | 'alt-speed-up'
  >,
  altActive: boolean,
): EffectiveLimits {
  if (altActive)
    return {
      downBytesPerSecond: kBps(settings['alt-speed-down']),
      upBytesPerSecond: kBps(settings['alt-speed-up']),
    };
  return {
    downBytesPerSecond: settings['speed-limit-down-enabled'] ? kBps(settings['speed-limit-down']) : undefined,
    upBytesPerSecond: settings['speed-limit-up-enabled'] ? kBps(settings['speed-limit-up']) : undefined,
  };
}
