/**
 * Per-source rate limiting of incoming queries: a token bucket per IP (per /64 for IPv6, which one
 * host usually owns whole) in a table bounded by {@link RateLimitOptions.maxTracked} entries (least
 * recently seen evicted first), plus one global bucket. A flood from one address is cut to
 * `ratePerSecond`; a flood from many spoofed addresses cannot grow the table, and the global
 * bucket bounds how much we answer in total, so we cannot be turned into a reflector.
 *
 * Defaults: libtorrent blocks an IP that sends more than `dht_block_ratelimit` = 5 queries per
 * second (averaged over 10 s, so a burst of ~50) for 5 minutes. We keep its 5/s but with a burst of
 * 25 and no penalty box: a bucket refills smoothly, so a well-behaved node that bursts during its
 * own lookup is never locked out for minutes. The global 250/s matches a busy home node's share of
 * the mainline DHT (libtorrent's `dht_upload_rate_limit` of 8000 bytes/s is ~100 replies/s).
 */

import { addressBytes, isIpv4Mapped } from '../address.js';
import type { Clock } from '../clock.js';

export interface RateLimitOptions {
  clock: Clock;
  /** Queries per second one source may sustain. @default 5 */
  ratePerSecond?: number;
  /** Queries one source may send at once. @default 25 */
  burst?: number;
  /** Sources remembered at once (least recently seen forgotten first). @default 4096 */
  maxTracked?: number;
  /** Queries per second answered in total. @default 250 */
  globalRatePerSecond?: number;
  /** @default 500 */
  globalBurst?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Approximate bytes of one tracked source (map entry, key string, bucket object). */
const TRACKED_ENTRY_BYTES = 120;

export class QueryRateLimiter {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxTracked: number;
  readonly #globalRate: number;
  readonly #globalBurst: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #global: Bucket;

  constructor(options: RateLimitOptions) {
    this.#clock = options.clock;
    this.#rate = options.ratePerSecond ?? 5;
    this.#burst = options.burst ?? 25;
    this.#maxTracked = options.maxTracked ?? 4096;
    this.#globalRate = options.globalRatePerSecond ?? 250;
    this.#globalBurst = options.globalBurst ?? 500;
    this.#global = { tokens: this.#globalBurst, at: this.#clock.now() };
  }

  /** True when a query from `host` may be answered now (and counts it); false to stay silent. */
  allow(host: string): boolean {
    const now = this.#clock.now();
    const key = sourceKey(host);
    let bucket = this.#buckets.get(key);
    if (bucket) {
      this.#buckets.delete(key); // re-inserted below: the Map's order is least recently seen first
    } else {
      bucket = { tokens: this.#burst, at: now };
      if (this.#buckets.size >= this.#maxTracked) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    this.#buckets.set(key, bucket);
    refill(bucket, now, this.#rate, this.#burst);
    refill(this.#global, now, this.#globalRate, this.#globalBurst);
    if (bucket.tokens < 1 || this.#global.tokens < 1) return false;
    bucket.tokens -= 1;
    this.#global.tokens -= 1;
    return true;
  }

  /** Sources currently remembered. */
  trackedCount(): number {
    return this.#buckets.size;
  }

  /** Approximate bytes held. */
  memoryBytes(): number {
    return this.#buckets.size * TRACKED_ENTRY_BYTES + 64;
  }
}

function refill(bucket: Bucket, now: number, rate: number, burst: number): void {
  const elapsed = Math.max(0, now - bucket.at);
  bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * rate) / 1000);
  bucket.at = now;
}

/** IPv4 (also IPv4-mapped): the address; IPv6: its /64 (one site's prefix); anything else: the text as given. */
function sourceKey(host: string): string {
  const bytes = addressBytes(host);
  if (bytes === undefined || bytes.length === 4) return host;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is one IPv4 host, not one shared /64.
  if (isIpv4Mapped(bytes)) {
    return bytes.subarray(12).join('.');
  }
  return Buffer.from(bytes.subarray(0, 8)).toString('hex');
}
