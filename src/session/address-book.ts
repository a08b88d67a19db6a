import { isIP } from 'node:net';
import { formatAddress, type PeerAddress } from '../address.js';

export type PeerSource = 'tracker' | 'magnet' | 'incoming' | 'manual' | 'pex' | 'dht';

interface Entry {
  address: PeerAddress;
  source: PeerSource;
  failures: number;
  nextAttemptAt: number;
  connected: boolean;
  /** Dialled or connected at least once. */
  tried: boolean;
}

/** Failed dials are retried after 15 s, 30 s, 60 s … up to this. */
const MAX_RETRY_DELAY_MS = 10 * 60_000;
/** A peer address is forgotten after this many failures in a row. */
const MAX_FAILURES = 6;
/** Bound on remembered addresses: trackers and peers decide what we are told. */
const MAX_ENTRIES = 5000;

/**
 * Every peer address we have heard of, with dial back-off and bans. Policy
 * only: it decides whom to dial next; the session does the dialling.
 */
export class AddressBook {
  readonly #entries = new Map<string, Entry>();
  readonly #bannedHosts = new Set<string>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  add(address: PeerAddress, source: PeerSource): boolean {
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
    if (this.#entries.size >= MAX_ENTRIES) return false;
    this.#entries.set(key, {
      address,
      source,
      failures: 0,
      nextAttemptAt: 0,
      connected: false,
      tried: false,
    });
    return true;
  }

  /** Addresses ready to dial now, fewest failures first. */
  candidates(limit: number, skip: ReadonlySet<string>): PeerAddress[] {
    if (limit <= 0) return [];
    const now = this.#now();
    const ready: Entry[] = [];
    for (const [key, entry] of this.#entries) {
      if (!entry.connected && entry.nextAttemptAt <= now && !skip.has(key)) ready.push(entry);
    }
    ready.sort((a, b) => a.failures - b.failures);
    return ready.slice(0, limit).map((entry) => entry.address);
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
      entry.failures = 0;
    }
  }

  /** A dial failed, or a connection ended; `clean` means it ended after useful work. */
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
    if (entry.failures >= MAX_FAILURES && entry.source !== 'manual' && entry.source !== 'magnet') {
      this.#entries.delete(key);
      return;
    }
    entry.nextAttemptAt = this.#now() + Math.min(15_000 * 2 ** (entry.failures - 1), MAX_RETRY_DELAY_MS);
  }

  /** Every address still remembered (for handing peers from one phase to the next). */
  addresses(): PeerAddress[] {
    return [...this.#entries.values()].map((entry) => entry.address);
  }

  ban(host: string): void {
    this.#bannedHosts.add(host);
    for (const [key, entry] of this.#entries) if (entry.address.host === host) this.#entries.delete(key);
  }

  isBanned(host: string): boolean {
    return this.#bannedHosts.has(host);
  }

  /** The soonest moment a not-connected entry becomes dialable (for "waiting for peers" messages). */
  hasPending(): boolean {
    for (const entry of this.#entries.values()) if (!entry.connected) return true;
    return false;
  }
}
