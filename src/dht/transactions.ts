/**
 * Our outstanding KRPC queries, keyed by (transaction id, destination address). A reply is
 * matched only when both agree, so a reply from an address we did not query, or with a tid we
 * never sent, is ignored (and counted). Each query has a timeout on the injected clock, adaptive
 * to the round-trip times seen (as TCP's RTO: smoothed RTT + 4 × variance, clamped), and an
 * optional earlier "slow" mark that lookups use to open one more parallel slot (libtorrent's
 * short timeout). The table is bounded: when it is full, `open` refuses.
 */
import type { Clock } from '../clock.js';

export interface TransactionOptions<T> {
  clock: Clock;
  /** Called when a query got no reply in time; the entry is gone by then. */
  onTimeout(value: T, to: { host: string; port: number }): void;
  /** Called once when a query has had no reply for `slowMs` (it stays outstanding). */
  onSlow?(value: T, to: { host: string; port: number }): void;
  /** First tid to hand out (random in production so tids do not repeat across restarts). @default 0 */
  firstTid?: number;
  /** Queries outstanding at once. @default 256 */
  maxOutstanding?: number;
  /** Timeout before any RTT was measured, and the upper clamp. @default 2000 */
  timeoutMs?: number;
  /** Lower clamp of the adaptive timeout. @default 500 */
  minTimeoutMs?: number;
  /** Delay of the slow mark. @default 1000 */
  slowMs?: number;
}

interface Pending<T> {
  value: T;
  to: { host: string; port: number };
  sentAt: number;
  timer: unknown;
  slowTimer: unknown;
}

/** The tid as a 16-bit number, or undefined when it is not 2 bytes (we send only 2-byte tids). */
function tidNumber(tid: Uint8Array): number | undefined {
  return tid.length === 2 ? (tid[0]! << 8) | tid[1]! : undefined;
}

export class TransactionTable<T> {
  readonly #clock: Clock;
  readonly #onTimeout: (value: T, to: { host: string; port: number }) => void;
  readonly #onSlow: ((value: T, to: { host: string; port: number }) => void) | undefined;
  readonly #max: number;
  readonly #maxTimeout: number;
  readonly #minTimeout: number;
  readonly #slowMs: number;
  readonly #pending = new Map<number, Pending<T>>();
  #nextTid: number;
  #srtt: number | undefined;
  #rttvar = 0;

  constructor(options: TransactionOptions<T>) {
    this.#clock = options.clock;
    this.#onTimeout = options.onTimeout;
    this.#onSlow = options.onSlow;
    this.#max = Math.min(options.maxOutstanding ?? 256, 0x10000);
    this.#maxTimeout = options.timeoutMs ?? 2000;
    this.#minTimeout = Math.min(options.minTimeoutMs ?? 500, this.#maxTimeout);
    this.#slowMs = options.slowMs ?? 1000;
    this.#nextTid = (options.firstTid ?? 0) & 0xffff;
  }

  /** Queries outstanding. */
  get size(): number {
    return this.#pending.size;
  }

  /** The timeout a query sent now gets. */
  get timeoutMs(): number {
    if (this.#srtt === undefined) return this.#maxTimeout;
    return Math.max(this.#minTimeout, Math.min(this.#maxTimeout, Math.ceil(this.#srtt + 4 * this.#rttvar)));
  }

  /**
   * Registers a query to `to`; returns its 2-byte tid, or undefined when the table is full
   * (the caller must not send).
   */
  open(
    to: { host: string; port: number },
    value: T,
    options: { slow?: boolean } = {},
  ): Uint8Array | undefined {
    if (this.#pending.size >= this.#max) return undefined;
    let tid = this.#nextTid;
    while (this.#pending.has(tid)) tid = (tid + 1) & 0xffff;
    this.#nextTid = (tid + 1) & 0xffff;
    const pending: Pending<T> = {
      value,
      to: { host: to.host, port: to.port },
      sentAt: this.#clock.now(),
      timer: undefined,
      slowTimer: undefined,
    };
    pending.timer = this.#clock.setTimeout(() => {
      if (this.#pending.get(tid) !== pending) return;
      this.#pending.delete(tid);
      this.#clock.clearTimeout(pending.slowTimer);
      this.#onTimeout(value, pending.to);
    }, this.timeoutMs);
    if (options.slow && this.#onSlow && this.#slowMs < this.timeoutMs) {
      const onSlow = this.#onSlow;
      pending.slowTimer = this.#clock.setTimeout(() => {
        if (this.#pending.get(tid) === pending) onSlow(value, pending.to);
      }, this.#slowMs);
    }
    this.#pending.set(tid, pending);
    return Uint8Array.of(tid >> 8, tid & 0xff);
  }

  /**
   * The reply with `tid` came from `from`: returns the query's value and its round-trip time and
   * closes it, or undefined (nothing closed) when no query with that tid went to that address.
   */
  resolve(tid: Uint8Array, from: { host: string; port: number }): { value: T; rtt: number } | undefined {
    const key = tidNumber(tid);
    if (key === undefined) return undefined;
    const pending = this.#pending.get(key);
    if (!pending || pending.to.host !== from.host || pending.to.port !== from.port) return undefined;
    this.#pending.delete(key);
    this.#clock.clearTimeout(pending.timer);
    this.#clock.clearTimeout(pending.slowTimer);
    const rtt = Math.max(0, this.#clock.now() - pending.sentAt);
    this.#sample(rtt);
    return { value: pending.value, rtt };
  }

  /** Drops every outstanding query without calling back (on close); returns their values. */
  clear(): T[] {
    const values: T[] = [];
    for (const pending of this.#pending.values()) {
      this.#clock.clearTimeout(pending.timer);
      this.#clock.clearTimeout(pending.slowTimer);
      values.push(pending.value);
    }
    this.#pending.clear();
    return values;
  }

  #sample(rtt: number): void {
    if (this.#srtt === undefined) {
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
      return;
    }
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - rtt);
    this.#srtt = 0.875 * this.#srtt + 0.125 * rtt;
  }
}
