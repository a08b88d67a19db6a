/**
 * The daemon's global speed limits: `speed-limit-*` or, while turtle mode is on, `alt-speed-*`,
 * with turtle mode switched by its schedule (Transmission's rules, `policy/speed-schedule.ts`)
 * and by the user, whose toggle lasts until the schedule's next boundary.
 */
import {
  type AltSpeedState,
  altSpeedTick,
  altSpeedToggle,
  effectiveLimits,
  localTime,
} from '../policy/speed-schedule.js';
import type { Client } from '../session/client.js';
import { sharedHandleBudget } from '../storage/handle-budget.js';
import type { DaemonSettings } from './settings-types.js';

const SCHEDULE_KEYS = [
  'alt-speed-time-enabled',
  'alt-speed-time-begin',
  'alt-speed-time-end',
  'alt-speed-time-day',
] as const;

export class SpeedControl {
  #state: AltSpeedState;

  constructor(settings: Readonly<DaemonSettings>) {
    this.#state = { active: settings['alt-speed-enabled'], lastScheduled: undefined };
  }

  /**
   * Follows the schedule at `nowMs` (local time of this machine); returns the new
   * `alt-speed-enabled` when the schedule switched it, else `undefined`.
   */
  tick(settings: Readonly<DaemonSettings>, nowMs: number): boolean | undefined {
    const next = altSpeedTick(this.#state, settings, localTime(nowMs, -new Date(nowMs).getTimezoneOffset()));
    this.#state = { active: next.active, lastScheduled: next.lastScheduled };
    return next.changed ? next.active : undefined;
  }

  /** A settings update: a user toggle of `alt-speed-enabled`, or a new schedule (asked again at the next tick). */
  settingsChanged(keys: readonly string[], settings: Readonly<DaemonSettings>): void {
    if (keys.includes('alt-speed-enabled'))
      this.#state = altSpeedToggle(this.#state, settings['alt-speed-enabled']);
    if (SCHEDULE_KEYS.some((key) => keys.includes(key)))
      this.#state = { ...this.#state, lastScheduled: undefined };
  }

  get altActive(): boolean {
    return this.#state.active;
  }

  /**
   * The client-wide limits in bytes per second (0 = unlimited, as `Client.setLimits` takes
   * them). A limit of 0 kB/s in the settings means nothing moves in Transmission; the client's
   * smallest limit, 1 byte/s, is the closest.
   */
  limits(settings: Readonly<DaemonSettings>): { download: number; upload: number } {
    const effective = effectiveLimits(settings, this.#state.active);
    const bytes = (value: number | undefined): number => (value === undefined ? 0 : Math.max(value, 1));
    return { download: bytes(effective.downBytesPerSecond), upload: bytes(effective.upBytesPerSecond) };
  }
}

/** Applies the global (or turtle) speed limits, the global and per-torrent peer caps and the open-file bound. */
export function applyClientLimits(client: Client, speed: SpeedControl, settings: DaemonSettings): void {
  sharedHandleBudget().setLimit(settings['open-file-limit']);
  client.setLimits(speed.limits(settings));
  client.setPeerLimits({
    global: settings['peer-limit-global'],
    perTorrent: settings['peer-limit-per-torrent'],
  });
}
