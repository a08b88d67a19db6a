/**
 * Bytes per second over a sliding window of one-second buckets. Cheap to
 * update on every block (one addition) and read once per tick.
 */
export class RateMeter {
  readonly #buckets: Float64Array;
  readonly #now: () => number;
  #currentSecond: number;
  #total = 0;

  constructor(windowSeconds = 5, now: () => number = Date.now) {
    this.#buckets = new Float64Array(windowSeconds);
    this.#now = now;
    this.#currentSecond = Math.floor(now() / 1000);
  }

  get total(): number {
    return this.#total;
  }

  add(bytes: number): void {
    this.#advance();
    this.#buckets[this.#currentSecond % this.#buckets.length]! += bytes;
    this.#total += bytes;
  }

  /** Average rate over the window, in bytes per second. */
  rate(): number {
    this.#advance();
    let sum = 0;
    for (const value of this.#buckets) sum += value;
    return sum / this.#buckets.length;
  }

  #advance(): void {
    const second = Math.floor(this.#now() / 1000);
    const steps = Math.min(second - this.#currentSecond, this.#buckets.length);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#currentSecond + i) % this.#buckets.length] = 0;
    if (second > this.#currentSecond) this.#currentSecond = second;
  }
}
