/**
 * Bytes per second over a sliding window of one-second buckets. Cheap to
 * update on every block (one addition) and read once per tick.
 *
 * The newest bucket is the second in progress, so the window spans the older
 * full seconds plus the part of this one that has passed: dividing by that
 * span (not by the whole window) keeps a steady stream's rate exact whenever
 * it is read, instead of up to one bucket low.
 */
export class RateMeter {
  readonly #buckets: Float64Array;
  readonly #now: () => number;
  readonly #createdAt: number;
  /** When the first byte came: an idle start (a peer that chokes us for 10 s) is not averaged in. */
  #firstAt: number | undefined;
  #currentSecond: number;
  #total = 0;

  constructor(windowSeconds = 5, now: () => number = Date.now) {
    this.#buckets = new Float64Array(windowSeconds);
    this.#now = now;
    this.#createdAt = now();
    this.#currentSecond = Math.floor(this.#createdAt / 1000);
  }

  get total(): number {
    return this.#total;
  }

  add(bytes: number): void {
    const now = this.#now();
    this.#firstAt ??= now;
    this.#advance(now);
    this.#buckets[this.#currentSecond % this.#buckets.length]! += bytes;
    this.#total += bytes;
  }

  /** Average rate over the window (at least the last second), in bytes per second. */
  rate(): number {
    const now = this.#now();
    this.#advance(now);
    let sum = 0;
    for (const value of this.#buckets) sum += value;
    const windowMs = (this.#buckets.length - 1) * 1000 + (now - this.#currentSecond * 1000);
    const spanMs = Math.max(1000, Math.min(windowMs, now - (this.#firstAt ?? this.#createdAt)));
    return (sum * 1000) / spanMs;
  }

  #advance(now: number): void {
    const second = Math.floor(now / 1000);
    const steps = Math.min(second - this.#currentSecond, this.#buckets.length);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#currentSecond + i) % this.#buckets.length] = 0;
    if (second > this.#currentSecond) this.#currentSecond = second;
  }
}
