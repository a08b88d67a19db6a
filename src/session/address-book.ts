import { isIP } from 'node:net';
import { formatAddress, type PeerAddress } from '../address.js';

export type PeerSource = 'tracker' | 'magnet' | 'incoming' | 'manual' | 'pex' | 'dht';

interface Entry {
  address: PeerAddress;
  key: string;
  origin: Origin;
  failures: number;
  nextAttemptAt: number;
  connected: boolean;
  /** Handed out to dial, dialled or connected at least once. */
  tried: boolean;
  /** Connected at least once. */
  reached: boolean;
}

/**
 * Who told us of an address: the kind and, where there is one, which tracker (`tracker:<url>`)
 * or peer. Quotas, eviction and the dialling order are per origin.
 */
interface Origin {
  name: string;
  kind: PeerSource;
  /** Its addresses, oldest first. */
  entries: Set<Entry>;
  /** Its addresses whose last dial or connection failed (eviction goes here first). */
  failed: Set<Entry>;
  /** Addresses of it handed out to dial so far (the least served origin goes first). */
  handedOut: number;
  /** Order of first appearance (ties go to the newer origin). */
  seq: number;
}

/** Failed dials are retried after 15 s, 30 s, 60 s … up to this. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;
/** A peer address is forgotten after this many failures in a row. */
const MAX_FAILURES = 6;
/** Bound on remembered addresses: trackers and peers decide what we are told. */
export const MAX_BOOK_ENTRIES = 5000;

/** Sources the user gave (never evicted, never forgotten for failing). */
function isPinned(kind: PeerSource): boolean {
  return kind === 'manual' || kind === 'magnet';
}

export interface AddressBookOptions {
  /** Most addresses remembered. @default 5000 */
  maxEntries?: number;
}

/**
 * Every peer address we have heard of, with dial back-off and bans. Policy only: it decides
 * whom to dial next; the session does the dialling.
 *
 * Fair across sources (issue 15, "tracker eclipse"), as libtorrent's peer list is bounded
 * (`max_peerlist_size`) and erases failed peers first: every address remembers its origin
 * (`tracker:<url>`, `incoming`, `manual`…). When the book is full, a new address from an
 * origin holding less than its fair share (`maxEntries / origins`, at least one) evicts an
 * address of the largest origin, a failed one first, then one never tried; an origin at or
 * over its share may only replace its own failed addresses. So one tracker answering 20,000
 * junk addresses cannot keep another tracker's honest seeder out. Candidates interleave the
 * origins (round robin, the least served first), so a new origin is not starved behind
 * thousands of an earlier one's addresses.
 */
export class AddressBook {
  readonly #entries = new Map<string, Entry>();
  readonly #origins = new Map<string, Origin>();
  readonly #bannedHosts = new Set<string>();
  readonly #now: () => number;
  readonly #maxEntries: number;
  #originSeq = 0;

  constructor(now: () => number = Date.now, options: AddressBookOptions = {}) {
    this.#now = now;
    this.#maxEntries = Math.max(1, options.maxEntries ?? MAX_BOOK_ENTRIES);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How many addresses an origin (`tracker:<url>`, or the kind alone) holds now. */
  countFrom(source: PeerSource, origin?: string): number {
    return this.#origins.get(originName(source, origin))?.entries.size ?? 0;
  }

  /**
   * Remembers an address told by `source` (`origin` names which one: a tracker's URL, a peer).
   * Returns whether it is new and kept.
   */
  add(address: PeerAddress, source: PeerSource, origin?: string): boolean {
    if (address.port <= 0 || address.port > 65535 || isIP(address.host) === 0) return false;
    if (this.#bannedHosts.has(address.host)) return false;
    const key = formatAddress(address);
    const existing = this.#entries.get(key);
    if (existing) {
      // Heard of again: a tracker still lists it, so give it another chance soon.
      if (!existing.connected && existing.failures > 0)
        existing.nextAttemptAt = Math.min(existing.nextAttemptAt, this.#now() + 15_000);
      return false;
    }
    const name = originName(source, origin);
    if (this.#entries.size >= this.#maxEntries && !this.#makeRoomFor(name, source)) return false;
    let from = this.#origins.get(name);
    if (!from) {
      from = {
        name,
        kind: source,
        entries: new Set(),
        failed: new Set(),
        handedOut: 0,
        seq: this.#originSeq++,
      };
      this.#origins.set(name, from);
    }
    const entry: Entry = {
      address,
      key,
      origin: from,
      failures: 0,
      nextAttemptAt: 0,
      connected: false,
      tried: false,
      reached: false,
    };
    this.#entries.set(key, entry);
    from.entries.add(entry);
    return true;
  }

  /**
   * Addresses ready to dial now, at most `limit`: first those never failed, then retries
   * (fewest failures first), each group interleaving the origins round robin, the origin
   * served least so far first (the newest on a tie). What it returns counts as handed out (and tried).
   */
  candidates(limit: number, skip: ReadonlySet<string>): PeerAddress[] {
    if (limit <= 0) return [];
    const now = this.#now();
    const fresh: Entry[][] = [];
    const retries: Entry[][] = [];
    const origins = [...this.#origins.values()].sort((a, b) => a.handedOut - b.handedOut || b.seq - a.seq);
    for (const origin of origins) {
      const good: Entry[] = [];
      const again: Entry[] = [];
      for (const entry of origin.entries) {
        if (entry.connected || entry.nextAttemptAt > now || skip.has(entry.key)) continue;
        if (entry.failures === 0) {
          if (good.length < limit) good.push(entry);
        } else if (again.length < limit) again.push(entry);
        if (good.length >= limit && again.length >= limit) break;
      }
      if (good.length > 0) fresh.push(good);
      if (again.length > 0) retries.push(again.sort((a, b) => a.failures - b.failures));
    }
    const picked: Entry[] = [];
    interleave(fresh, limit, picked);
    interleave(retries, limit, picked);
    for (const entry of picked) {
      entry.tried = true;
      entry.origin.handedOut++;
    }
    return picked.map((entry) => entry.address);
  }

  /** How many addresses never tried yet could be dialled now (peer rotation makes room for them). */
  untried(skip: ReadonlySet<string>): number {
    const now = this.#now();
    let count = 0;
    for (const [key, entry] of this.#entries)
      if (!entry.tried && !entry.connected && entry.nextAttemptAt <= now && !skip.has(key)) count++;
    return count;
  }

  markConnected(key: string): void {
    const entry = this.#entries.get(key);
    if (entry) {
      entry.tried = true;
      entry.connected = true;
      entry.reached = true;
      entry.failures = 0;
      entry.origin.failed.delete(entry);
    }
  }

  /**
   * Dialled and reachable, but every connection slot had filled meanwhile: closed unused. It
   * counts as untried again (peer rotation makes room for such addresses) and keeps its place.
   */
  markDeferred(key: string): void {
    const entry = this.#entries.get(key);
    if (entry && !entry.connected) entry.tried = false;
  }

  /**
   * A dial failed (refused, timed out), or a connection ended; `clean` means it ended after
   * useful work (or was never a failure: dialled while every slot was taken). A failed address
   * is retried with back-off, is the first to be evicted when the book is full, and is
   * forgotten after a few failures in a row.
   */
  markDisconnected(key: string, clean: boolean): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    entry.tried = true;
    entry.connected = false;
    if (clean) {
      entry.nextAttemptAt = this.#now() + 5_000;
      return;
    }
    entry.failures++;
    if (entry.failures >= MAX_FAILURES && !isPinned(entry.origin.kind)) {
      this.#remove(entry);
      return;
    }
    entry.origin.failed.add(entry);
    entry.nextAttemptAt = this.#now() + Math.min(15_000 * 2 ** (entry.failures - 1), MAX_RETRY_DELAY_MS);
  }

  /**
   * Every address still remembered (for handing peers from one phase to the next): those we
   * reached first, then those never failed, then the failed ones, so the next phase dials the
   * peer that just served us before thousands of junk addresses.
   */
  addresses(): PeerAddress[] {
    const rank = (entry: Entry): number => (entry.reached ? 0 : entry.failures === 0 ? 1 : 2);
    return [...this.#entries.values()].sort((a, b) => rank(a) - rank(b)).map((entry) => entry.address);
  }

  ban(host: string): void {
    this.#bannedHosts.add(host);
    for (const entry of this.#entries.values()) if (entry.address.host === host) this.#remove(entry);
  }

  isBanned(host: string): boolean {
    return this.#bannedHosts.has(host);
  }

  /** Whether any address is remembered that is not connected (for "waiting for peers" messages). */
  hasPending(): boolean {
    for (const entry of this.#entries.values()) if (!entry.connected) return true;
    return false;
  }

  /** The book is full: evict one address so one from origin `name` can come in, or refuse. */
  #makeRoomFor(name: string, kind: PeerSource): boolean {
    const own = this.#origins.get(name);
    const held = own?.entries.size ?? 0;
    const origins = this.#origins.size + (own ? 0 : 1);
    const share = Math.max(1, Math.floor(this.#maxEntries / origins));
    if (held >= share && !isPinned(kind)) {
      // At or over its share: it may only replace one of its own failed addresses.
      const victim = own ? first(own.failed) : undefined;
      if (!victim) return false;
      this.#remove(victim);
      return true;
    }
    // Under its share (or given by the user): the largest other origin gives up an address.
    let largest: Origin | undefined;
    for (const origin of this.#origins.values()) {
      if (origin === own || isPinned(origin.kind)) continue;
      if (!largest || origin.entries.size > largest.entries.size) largest = origin;
    }
    if (!largest || largest.entries.size <= held + 1) return false;
    const victim = first(largest.failed) ?? evictable(largest.entries);
    if (!victim) return false;
    this.#remove(victim);
    return true;
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key);
    entry.origin.entries.delete(entry);
    entry.origin.failed.delete(entry);
    if (entry.origin.entries.size === 0) this.#origins.delete(entry.origin.name);
  }
}

function originName(source: PeerSource, origin: string | undefined): string {
  return origin === undefined || origin === '' ? source : `${source}:${origin}`;
}

function first<T>(set: ReadonlySet<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

/** An address to evict when none failed: never tried first, else one not connected now. */
function evictable(entries: ReadonlySet<Entry>): Entry | undefined {
  let fallback: Entry | undefined;
  for (const entry of entries) {
    if (entry.connected) continue;
    if (!entry.tried) return entry;
    fallback ??= entry;
  }
  return fallback;
}

/** Round robin over the lists (each already in its own order) into `out`, up to `limit` in all. */
function interleave(lists: readonly Entry[][], limit: number, out: Entry[]): void {
  for (let index = 0; out.length < limit; index++) {
    let any = false;
    for (const list of lists) {
      const entry = list[index];
      if (entry === undefined) continue;
      any = true;
      out.push(entry);
      if (out.length >= limit) return;
    }
    if (!any) return;
  }
}
