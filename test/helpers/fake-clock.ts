import type { Clock } from '../../src/clock.js';

const FAKE_CLOCK_MAX_TIMERS = 100_000;

/**
 * A manual clock for unit tests: time stands still until the test calls
 * `advance`, which fires the timers that fall due, in order, each at its
 * own time. Nothing here waits for real time.
 */
export class FakeClock implements Clock {
  #time: number;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;

  constructor(start = 1_000_000) {
    this.#time = start;
  }

  readonly now = (): number => this.#time;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    // Like Node: a negative or non-finite delay fires as soon as time moves (or at once via flush).
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { at: this.#time + delay, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** Timers set and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer due by then in due order
   * (timers set by a callback fire too if they fall within the step).
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move a clock back (${ms} ms)`);
    const end = this.#time + ms;
    for (let fired = 0; ; fired++) {
      // A timer that keeps re-arming itself at no delay would otherwise spin here forever.
      if (fired > FAKE_CLOCK_MAX_TIMERS)
        throw new Error(
          `FakeClock: over ${FAKE_CLOCK_MAX_TIMERS} timers fired in one advance: a timer loop?`,
        );
      let nextId: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && timer.at < nextAt) {
          nextAt = timer.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.#time = Math.max(this.#time, nextAt);
      timer.callback();
    }
    this.#time = end;
  }
}
