export interface RechokeLimiterOptions {
  now: () => number;
  /** Shortest time between two choking rounds, however many events ask for one. @default 1000 */
  minGapMs?: number;
  /** The regular round. @default 10000 */
  roundIntervalMs?: number;
}

/**
 * When to run a choking round. The regular round comes every `roundIntervalMs`;
 * an event (a peer became interested or not, came or went) asks for an earlier
 * one, so a new downloader does not wait 10 s, but rounds asked for by events
 * are coalesced and never closer than `minGapMs`: a peer flipping its interest
 * 10,000 times a second causes at most one round a second. Pure: the caller
 * owns the timer and the clock is injected.
 */
export class RechokeLimiter {
  readonly #now: () => number;
  readonly #minGap: number;
  readonly #roundInterval: number;
  #lastRunAt = Number.NEGATIVE_INFINITY;
  #requested = false;

  constructor(options: RechokeLimiterOptions) {
    this.#now = options.now;
    this.#minGap = options.minGapMs ?? 1000;
    this.#roundInterval = options.roundIntervalMs ?? 10_000;
  }

  /**
   * An event asks for a round. Returns the delay (ms) after which `due()` will
   * say yes, for the caller to set one timer; `undefined` when a round is
   * already asked for (its timer is already set).
   */
  request(): number | undefined {
    if (this.#requested) return undefined;
    this.#requested = true;
    return Math.max(0, this.#lastRunAt + this.#minGap - this.#now());
  }

  /** Whether a round should run now: an asked-for one whose wait is over, or the regular one. */
  due(): boolean {
    const since = this.#now() - this.#lastRunAt;
    return (this.#requested && since >= this.#minGap) || since >= this.#roundInterval;
  }

  /** A round ran now (whatever asked for it). */
  ran(): void {
    this.#lastRunAt = this.#now();
    this.#requested = false;
  }
}
