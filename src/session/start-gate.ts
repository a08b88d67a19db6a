/**
 * At most `limit` torrents of a client checking their files at once (the start-up check, with or
 * without a resume record); the others wait their turn, first come first served. Starting 1,000
 * torrents then reads and hashes a few at a time instead of holding 1,000 checks' buffers and
 * file handles together, and the first torrents are seeding early instead of all at the end.
 */
export class StartGate {
  readonly limit: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  /** Checks running now. */
  get running(): number {
    return this.#running;
  }

  /** Checks waiting for a turn now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves with the release function once a turn is free; call it exactly when done (it is idempotent). */
  async acquire(): Promise<() => void> {
    if (this.#running < this.limit) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      // The turn passes straight to the next waiter: running stays the same.
      if (next) next();
      else this.#running--;
    };
  }
}
