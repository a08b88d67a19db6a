/**
 * Time as the library sees it: a reading in milliseconds and one-shot timers.
 * Everything that waits (request and idle timeouts, keep-alives) takes a
 * Clock, so tests drive time with a fake one instead of waiting for it.
 */
export interface Clock {
  /** Milliseconds; only differences between readings mean anything. */
  now(): number;
  /** Runs `callback` once, `ms` from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer of this clock; a handle already fired, cleared or undefined is ignored. */
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `Date.now` and Node's timers, unref()'d: no timer of the
 * library keeps a process alive on its own.
 */
export const systemClock: Clock = {
  now: Date.now,
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout | undefined);
  },
};
