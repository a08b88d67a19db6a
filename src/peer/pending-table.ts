/**
 * The listener's table of accepted connections that have not yet completed their handshake, as
 * a pure policy: it holds keys, hosts and admission times and answers "accept (evicting these)
 * or refuse"; it never touches a socket or a timer (the caller closes what it is told to evict
 * and passes the time in).
 *
 * Why not simply refuse newcomers when the table is full: silent connections that are re-dialled
 * as soon as they are closed would then keep every honest peer out for good. Instead:
 * - one host holds at most `maxPerHost` entries (its newest is refused beyond that);
 * - when the table is full, a newcomer from a host holding fewer entries than the busiest host
 *   (by two or more) takes the oldest entry of that busiest host, so a few attacking addresses
 *   cannot crowd out a peer that comes from an address of its own;
 * - else a newcomer from an address with a shorter silent record (connections of it that timed
 *   out, were evicted or were refused over its limit, remembered for the last few thousand
 *   addresses) takes the oldest entry of the address with the longest record, so many silent
 *   addresses with one connection each cannot keep out a peer that has never been silent;
 * - otherwise the oldest entry overall is evicted once it has had `minAgeMs` to handshake (an
 *   honest peer sends its handshake at once, well within that), else the newcomer is refused;
 * - the handshake deadline shrinks from `deadlineMs` to `minDeadlineMs` as the table fills
 *   beyond half, and entries already older than the current deadline are evicted on admission.
 */

export interface PendingTableOptions {
  /** Most entries at once. */
  capacity: number;
  /** Most entries from one host at once. */
  maxPerHost: number;
  /** Handshake deadline while the table is at most half full. */
  deadlineMs: number;
  /** Handshake deadline when the table is full (it falls linearly from half full to full). */
  minDeadlineMs: number;
  /** Age below which an entry is evicted only to even out hosts, never merely for being oldest. */
  minAgeMs: number;
}

export type Admission<K> =
  | {
      accept: true;
      /** Entries to close now (already removed from the table). */
      evict: K[];
      /** Deadline for the newcomer's handshake. */
      deadlineMs: number;
    }
  | {
      accept: false;
      /** `host-limit`: its host already holds `maxPerHost`; `full`: every entry is too young to evict. */
      reason: 'host-limit' | 'full';
      /** Entries to close now (expired under the current deadline), already removed from the table. */
      evict: K[];
    };

interface Entry {
  host: string;
  since: number;
}

export class PendingTable<K> {
  readonly #options: PendingTableOptions;
  /** Insertion order is admission order: the first entry is the oldest. */
  readonly #entries = new Map<K, Entry>();
  readonly #perHost = new Map<string, number>();
  /** Silent record per address (timed out, evicted, refused over its limit); insertion order is recency. */
  readonly #strikes = new Map<string, number>();
  readonly #strikeMemory: number;

  constructor(options: PendingTableOptions) {
    if (!(options.capacity >= 1) || !(options.maxPerHost >= 1)) {
      throw new RangeError('a pending table needs a capacity and a per-host limit of at least 1');
    }
    this.#options = options;
    this.#strikeMemory = Math.max(1024, options.capacity * 16);
  }

  get size(): number {
    return this.#entries.size;
  }

  get capacity(): number {
    return this.#options.capacity;
  }

  /** Entries held for `host`. */
  countFor(host: string): number {
    return this.#perHost.get(host) ?? 0;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Handshake deadline with `occupied` entries in the table. */
  deadlineFor(occupied: number): number {
    const { capacity, deadlineMs, minDeadlineMs } = this.#options;
    const low = Math.min(minDeadlineMs, deadlineMs);
    const half = capacity / 2;
    if (occupied <= half) return deadlineMs;
    const pressure = Math.min(1, (occupied - half) / (capacity - half));
    return Math.round(deadlineMs - (deadlineMs - low) * pressure);
  }

  /** Decides on a newcomer `key` from `host` at time `now`, and applies the decision. */
  admit(key: K, host: string, now: number): Admission<K> {
    const evict = this.#expire(now);
    if (this.countFor(host) >= this.#options.maxPerHost) {
      this.#strike(host);
      return { accept: false, reason: 'host-limit', evict };
    }
    if (this.#entries.size >= this.#options.capacity) {
      const victim = this.#victimFor(host, now);
      if (victim === undefined) return { accept: false, reason: 'full', evict };
      this.timedOut(victim);
      evict.push(victim);
    }
    this.#entries.set(key, { host, since: now });
    this.#perHost.set(host, this.countFor(host) + 1);
    return { accept: true, evict, deadlineMs: this.deadlineFor(this.#entries.size) };
  }

  /** Forgets `key` (handshake done, connection closed); unknown keys are ignored. */
  remove(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const left = this.countFor(entry.host) - 1;
    if (left > 0) this.#perHost.set(entry.host, left);
    else this.#perHost.delete(entry.host);
  }

  /** Forgets `key` as a connection that said nothing in time, counting it against its address. */
  timedOut(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#strike(entry.host);
    this.remove(key);
  }

  /** The silent record of `host` (0 when none is remembered). */
  strikesOf(host: string): number {
    return this.#strikes.get(host) ?? 0;
  }

  #strike(host: string): void {
    const count = this.strikesOf(host) + 1;
    this.#strikes.delete(host);
    this.#strikes.set(host, count);
    if (this.#strikes.size > this.#strikeMemory) {
      const forgotten = this.#strikes.keys().next();
      if (!forgotten.done) this.#strikes.delete(forgotten.value);
    }
  }

  /** Removes and returns the entries older than the deadline for the current occupancy. */
  #expire(now: number): K[] {
    const deadline = this.deadlineFor(this.#entries.size);
    const expired: K[] = [];
    for (const [key, entry] of this.#entries) {
      if (now - entry.since < deadline) break; // admission order: the rest are younger
      expired.push(key);
    }
    for (const key of expired) this.timedOut(key);
    return expired;
  }

  /** The entry a newcomer from `host` may take in a full table, if any. */
  #victimFor(host: string, now: number): K | undefined {
    // The busiest host (ties: the one whose oldest entry is oldest, found first in admission order).
    let busiest: string | undefined;
    let most = 0;
    for (const entry of this.#entries.values()) {
      const count = this.countFor(entry.host);
      if (count > most) {
        most = count;
        busiest = entry.host;
      }
    }
    if (busiest !== undefined && most > this.countFor(host) + 1) {
      for (const [key, entry] of this.#entries) if (entry.host === busiest) return key;
    }
    // The address with the longest silent record (ties: its oldest entry, found first).
    let worstKey: K | undefined;
    let worst = this.strikesOf(host);
    for (const [key, entry] of this.#entries) {
      const strikes = this.strikesOf(entry.host);
      if (strikes > worst) {
        worst = strikes;
        worstKey = key;
      }
    }
    if (worstKey !== undefined) return worstKey;
    const first = this.#entries.entries().next();
    if (first.done) return undefined;
    const [oldestKey, oldest] = first.value;
    return now - oldest.since >= this.#options.minAgeMs ? oldestKey : undefined;
  }
}
