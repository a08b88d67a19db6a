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

  constructor(options: PendingTableOptions) {
    if (!(options.capacity >= 1) || !(options.maxPerHost >= 1)) {
      throw new RangeError('a pending table needs a capacity and a per-host limit of at least 1');
    }
    this.#options = options;
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
    if (this.countFor(host) >= this.#options.maxPerHost)
      return { accept: false, reason: 'host-limit', evict };
    if (this.#entries.size >= this.#options.capacity) {
      const victim = this.#victimFor(host, now);
      if (victim === undefined) return { accept: false, reason: 'full', evict };
      this.remove(victim);
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

  /** Removes and returns the entries older than the deadline for the current occupancy. */
  #expire(now: number): K[] {
    const deadline = this.deadlineFor(this.#entries.size);
    const expired: K[] = [];
    for (const [key, entry] of this.#entries) {
      if (now - entry.since < deadline) break; // admission order: the rest are younger
      expired.push(key);
    }
    for (const key of expired) this.remove(key);
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
    const first = this.#entries.entries().next();
    if (first.done) return undefined;
    const [oldestKey, oldest] = first.value;
    return now - oldest.since >= this.#options.minAgeMs ? oldestKey : undefined;
  }
}
