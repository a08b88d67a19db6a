import type { Clock } from '../clock.js';

/** First announces started per round, and the round's length: Transmission's announcer upkeep (20 every 500 ms). */
export const ANNOUNCE_STARTS_PER_ROUND = 20;
export const ANNOUNCE_ROUND_MS = 500;

/**
 * Spreads the first announces of a client's torrents: at most `perRound` torrents start announcing
 * per `roundMs`, the others wait in arrival order. 1,000 torrents added at once then reach their
 * trackers over 25 s instead of in one burst of 1,000 requests (a tracker or a NAT would drop
 * most of them). Later announces follow each tracker's own interval, which this does not touch.
 */
export class AnnounceSpread {
  readonly #clock: Clock;
  readonly #perRound: number;
  readonly #roundMs: number;
  readonly #queue: { start: () => void }[] = [];
  #roundStartedAt = Number.NEGATIVE_INFINITY;
  #startedThisRound = 0;
  #timer: unknown;

  constructor(clock: Clock, perRound = ANNOUNCE_STARTS_PER_ROUND, roundMs = ANNOUNCE_ROUND_MS) {
    this.#clock = clock;
    this.#perRound = Math.max(1, Math.floor(perRound));
    this.#roundMs = Math.max(1, roundMs);
  }

  /** Torrents waiting for their turn now. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Runs `start` now if this round has room, else in a later round; returns the cancel function. */
  schedule(start: () => void): () => void {
    const entry = { start };
    this.#queue.push(entry);
    this.#drain();
    return () => {
      const at = this.#queue.indexOf(entry);
      if (at >= 0) this.#queue.splice(at, 1);
    };
  }

  close(): void {
    this.#queue.length = 0;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #drain(): void {
    const now = this.#clock.now();
    if (now - this.#roundStartedAt >= this.#roundMs) {
      this.#roundStartedAt = now;
      this.#startedThisRound = 0;
    }
    while (this.#queue.length > 0 && this.#startedThisRound < this.#perRound) {
      this.#startedThisRound++;
      // A throwing start is the session's to report (it guards it); it never stalls the queue.
      this.#queue.shift()!.start();
    }
    if (this.#queue.length > 0 && this.#timer === undefined) {
      const wait = this.#roundStartedAt + this.#roundMs - now;
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#drain();
      }, wait);
    }
  }
}
