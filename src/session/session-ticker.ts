import type { Clock } from '../clock.js';

/**
 * One one-second tick for every torrent of a client, instead of a timer per torrent: with 1,000
 * torrents that is one timer wake-up a second rather than 1,000. The timer runs only while some
 * torrent is subscribed. A subscriber that throws does not stop the others (it is reported to
 * `onError`); one that unsubscribes during a tick is not called after.
 */
export class SessionTicker {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #subscribers = new Set<() => void>();
  #timer: unknown;

  constructor(clock: Clock, onError: (error: unknown) => void, intervalMs = 1000) {
    this.#clock = clock;
    this.#onError = onError;
    this.#intervalMs = intervalMs;
  }

  /** Subscribers now. */
  get size(): number {
    return this.#subscribers.size;
  }

  /** Calls `tick` every interval from the next one on; returns the unsubscribe function. */
  add(tick: () => void): () => void {
    // A wrapper per subscription, so the same function added twice is two subscriptions.
    const entry = () => tick();
    this.#subscribers.add(entry);
    this.#arm();
    return () => {
      this.#subscribers.delete(entry);
      if (this.#subscribers.size === 0) this.#disarm();
    };
  }

  /** Ends the timer and forgets every subscriber. */
  close(): void {
    this.#subscribers.clear();
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), this.#intervalMs);
  }

  #disarm(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    for (const entry of [...this.#subscribers]) {
      // Unsubscribed by an earlier subscriber of this tick: not called.
      if (!this.#subscribers.has(entry)) continue;
      try {
        entry();
      } catch (error) {
        this.#onError(error);
      }
    }
    if (this.#subscribers.size > 0) this.#arm();
  }
}
