export interface RechokeLimiterOptions {
  now: () => number;
  /** Rounds asked for by events come at most one per this many ms, after a burst. @default 1000 */
  minGapMs?: number;
  /** Rounds that may run back to back before the limit applies (a token bucket's size). @default 3 */
  burst?: number;
  /** The regular round. @default 10000 */
  roundIntervalMs?: number;
}

/**
 * When to run a choking round. The regular round comes every `roundIntervalMs`;
 * an event (a peer became interested or not, an unchoked peer left) asks for
 * an earlier one, so a new downloader does not wait 10 s. Rounds asked for by
 * events are coalesced and rate-limited by a token bucket: `burst` of them may
 * run at once, then one per `minGapMs`. A peer flipping its interest 10,000
 * times a second causes at most `burst` rounds and then one a second, while a
 * downloader arriving in a quiet swarm is served at once. Pure: the caller
 * owns the timer and the clock is injected.
 */
export class RechokeLimiter {
  readonly #now: () => number;
  readonly #minGap: number;
  readonly #burst: number;
  readonly #roundInterval: number;
  #lastRunAt = Number.NEGATIVE_INFINITY;
  #requested = false;
  #tokens: number;
  #tokensAt: number;

  constructor(options: RechokeLimiterOptions) {
    this.#now = options.now;
    this.#minGap = options.minGapMs ?? 1000;
    this.#burst = Math.max(1, options.burst ?? 3);
    this.#roundInterval = options.roundIntervalMs ?? 10_000;
    this.#tokens = this.#burst;
    this.#tokensAt = this.#now();
  }

  /**
   * An event asks for a round. Returns the delay (ms) after which `due()` will
   * say yes, for the caller to set one timer; `undefined` when a round is
   * already asked for (its timer is already set).
   */
  request(): number | undefined {
    if (this.#requested) return undefined;
    this.#requested = true;
    const tokens = this.#available();
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) * this.#minGap);
  }

  /** Whether a round should run now: an asked-for one the limit allows, or the regular one. */
  due(): boolean {
    if (this.#requested && this.#available() >= 1) return true;
    return this.#now() - this.#lastRunAt >= this.#roundInterval;
  }

  /** A round ran now (whatever asked for it): it spends a token. */
  ran(): void {
    this.#tokens = Math.max(0, this.#available() - 1);
    this.#lastRunAt = this.#now();
    this.#requested = false;
  }

  #available(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#tokensAt) / this.#minGap);
    this.#tokensAt = now;
    return this.#tokens;
  }
}
