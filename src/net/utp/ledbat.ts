/**
 * LEDBAT congestion control for uTP (BEP 29, RFC 6817): the congestion window
 * grows while the one-way queuing delay is under the target (100 ms) and
 * shrinks as it rises above it, so a uTP transfer yields to other traffic.
 * Pure: every input carries its own time in microseconds.
 *
 * The one-way delay samples are the peer's `timestamp_difference` (its clock at
 * arrival minus our clock at sending, modulo 2^32): only differences from the
 * lowest sample (the base delay) mean anything, so clock offsets cancel out.
 * The base delay is the minimum over the last BASE_HISTORY one-minute buckets.
 */

/** Minutes of base-delay history (RFC 6817's BASE_HISTORY). */
export const BASE_HISTORY = 10;
const MINUTE_MICROS = 60_000_000;

export interface LedbatOptions {
  /** Largest payload per packet, bytes. */
  mss: number;
  /** Target queuing delay; @default 100000 (100 ms) */
  targetDelayMicros?: number;
  /** Largest window growth per round trip when the delay is zero, bytes; @default 3000 */
  gainBytesPerRtt?: number;
  /** The window never falls under this; @default 2 × mss */
  minCwnd?: number;
  /** The window never grows over this; @default 4 MiB */
  maxCwnd?: number;
}

/** `a - b` on 32-bit wrapping timestamps, as a signed number. */
function diff32(a: number, b: number): number {
  return ((a - b) | 0) as number;
}

export class Ledbat {
  readonly #mss: number;
  readonly #target: number;
  readonly #gain: number;
  readonly #minCwnd: number;
  readonly #maxCwnd: number;
  #cwnd: number;
  #slowStart = true;
  /** Minimum delay sample per minute bucket, oldest first; the last is the current minute. */
  readonly #baseHistory: number[] = [];
  #bucketStart = Number.NaN;
  #lastDelay = 0;

  constructor(options: LedbatOptions) {
    this.#mss = options.mss;
    this.#target = options.targetDelayMicros ?? 100_000;
    this.#gain = options.gainBytesPerRtt ?? 3000;
    this.#minCwnd = options.minCwnd ?? 2 * options.mss;
    this.#maxCwnd = options.maxCwnd ?? 4 * 1024 * 1024;
    this.#cwnd = this.#minCwnd;
  }

  /** The congestion window, bytes. */
  get cwnd(): number {
    return Math.floor(this.#cwnd);
  }

  /** The last measured queuing delay (sample minus base), microseconds. */
  get queuingDelay(): number {
    return this.#lastDelay;
  }

  /** The base delay (lowest sample in the history), or undefined before any sample. */
  get baseDelay(): number | undefined {
    let base: number | undefined;
    for (const sample of this.#baseHistory) if (base === undefined || diff32(sample, base) < 0) base = sample;
    return base;
  }

  /**
   * `bytesAcked` newly acknowledged; `delaySample` the peer's timestamp_difference
   * (0 = no sample); `flightBytes` what was in flight before this ack.
   */
  onAck(bytesAcked: number, delaySample: number, flightBytes: number, nowMicros: number): void {
    if (bytesAcked <= 0) return;
    if (delaySample !== 0) this.#addSample(delaySample >>> 0, nowMicros);
    const delay = this.#lastDelay;
    // Only a window that was (nearly) used may grow: an idle sender learns nothing.
    const windowUsed = flightBytes + this.#mss >= this.#cwnd;
    if (this.#slowStart) {
      if (delay > this.#target / 2) this.#slowStart = false;
      else if (windowUsed) this.#cwnd += bytesAcked;
    } else {
      const offTarget = (this.#target - delay) / this.#target;
      const grow = (this.#gain * offTarget * bytesAcked) / Math.max(this.#cwnd, 1);
      if (grow < 0 || windowUsed) this.#cwnd += grow;
    }
    this.#clamp();
  }

  /** A packet was lost (3 duplicate acks or a SACK hole): halve the window, leave slow start. */
  onLoss(): void {
    this.#slowStart = false;
    this.#cwnd /= 2;
    this.#clamp();
  }

  /** The retransmission timer fired: back to the smallest window. */
  onTimeout(): void {
    this.#slowStart = false;
    this.#cwnd = this.#minCwnd;
  }

  #addSample(sample: number, now: number): void {
    if (Number.isNaN(this.#bucketStart) || now - this.#bucketStart >= MINUTE_MICROS) {
      this.#bucketStart = now;
      this.#baseHistory.push(sample);
      if (this.#baseHistory.length > BASE_HISTORY) this.#baseHistory.shift();
    } else {
      const last = this.#baseHistory.length - 1;
      if (diff32(sample, this.#baseHistory[last]!) < 0) this.#baseHistory[last] = sample;
    }
    const base = this.baseDelay!;
    this.#lastDelay = Math.max(0, diff32(sample, base));
  }

  #clamp(): void {
    if (this.#cwnd < this.#minCwnd) this.#cwnd = this.#minCwnd;
    if (this.#cwnd > this.#maxCwnd) this.#cwnd = this.#maxCwnd;
  }
}
