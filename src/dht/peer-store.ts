/**
 * Peers other nodes announced to us (`announce_peer`), handed out in `get_peers` replies.
 * Each entry lives {@link PeerStoreOptions.ttlMs} (30 min, refreshed by a re-announce); the store
 * is bounded per info-hash, per IP within an info-hash, in info-hashes and in total bytes, evicting
 * the least recently announced entries first. Pure: the clock and randomness are injected.
 */
import { formatAddress, type PeerAddress } from '../address.js';
import type { Clock } from '../clock.js';
import { type IpFamily, ipFamily } from './compact.js';
import { idHex, type NodeId, type RandomBytes } from './node-id.js';

export interface PeerStoreOptions {
  clock: Clock;
  random: RandomBytes;
  /** How long an announce is kept. @default 1800000 (30 minutes, as BEP 5 implementations do) */
  ttlMs?: number;
  /** Peers kept per info-hash (libtorrent's `dht_max_peers`). @default 500 */
  maxPeersPerTorrent?: number;
  /**
   * Entries one IP may hold per info-hash (ports differ): a host that has a valid token for its own
   * address cannot push every other peer out with announces of many ports. @default 8
   */
  maxPeersPerHost?: number;
  /** Info-hashes tracked (libtorrent's `dht_max_torrents`). @default 2000 */
  maxTorrents?: number;
  /** Approximate bytes the store may hold in all. @default 4194304 (4 MiB) */
  maxBytes?: number;
}

/** Approximate bytes per stored peer: two map entries, a key string, the entry and address objects. */
export const PEER_ENTRY_BYTES = 200;
/** Approximate bytes per tracked info-hash: its map entry, hex key and peer map. */
export const TORRENT_ENTRY_BYTES = 240;

interface Torrent {
  hex: string;
  /** By address key, least recently announced first. */
  peers: Map<string, Entry>;
}

interface Entry {
  key: string;
  addressKey: string;
  torrent: Torrent;
  peer: PeerAddress;
  family: IpFamily;
  at: number;
}

export class PeerStore {
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  readonly #ttlMs: number;
  readonly #maxPerTorrent: number;
  readonly #maxPerHost: number;
  readonly #maxTorrents: number;
  readonly #maxBytes: number;
  readonly #torrents = new Map<string, Torrent>();
  /** Every entry, least recently announced first (so expiry and eviction look only at the front). */
  readonly #all = new Map<string, Entry>();

  constructor(options: PeerStoreOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#ttlMs = options.ttlMs ?? 30 * 60_000;
    this.#maxPerTorrent = Math.max(1, options.maxPeersPerTorrent ?? 500);
    this.#maxPerHost = Math.max(1, options.maxPeersPerHost ?? 8);
    this.#maxTorrents = Math.max(1, options.maxTorrents ?? 2000);
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  }

  /** Records (or refreshes) `peer` for `infoHash`. A peer that is not a literal IP is ignored. */
  add(infoHash: NodeId, peer: PeerAddress): void {
    const family = ipFamily(peer.host);
    if (family === undefined || !Number.isInteger(peer.port) || peer.port < 1 || peer.port > 65535) return;
    this.#expire();
    const hex = idHex(infoHash);
    const addressKey = formatAddress(peer);
    let torrent = this.#torrents.get(hex);
    const existing = torrent?.peers.get(addressKey);
    if (torrent && existing) {
      // A re-announce: the entry moves to the back of both orders with a fresh time.
      this.#all.delete(existing.key);
      torrent.peers.delete(addressKey);
    } else {
      if (!torrent) {
        while (this.#torrents.size >= this.#maxTorrents && this.#all.size > 0) this.#evictTorrent();
        torrent = { hex, peers: new Map() };
        this.#torrents.set(hex, torrent);
      }
      const sameHost = [...torrent.peers.values()].filter((e) => e.peer.host === peer.host);
      if (sameHost.length >= this.#maxPerHost) this.#remove(sameHost[0]!);
      else if (torrent.peers.size >= this.#maxPerTorrent) this.#remove(torrent.peers.values().next().value!);
      this.#torrents.set(hex, torrent); // #remove drops an info-hash whose last peer goes
    }
    const entry: Entry = {
      key: `${hex}|${addressKey}`,
      addressKey,
      torrent,
      peer: { host: peer.host, port: peer.port },
      family,
      at: this.#clock.now(),
    };
    torrent.peers.set(addressKey, entry);
    this.#all.set(entry.key, entry);
    while (this.memoryBytes() > this.#maxBytes && this.#all.size > 0)
      this.#remove(this.#all.values().next().value!);
  }

  /** Up to `max` peers of `infoHash` (of one family when given), a random sample of those stored. */
  get(infoHash: NodeId, max: number, family?: IpFamily): PeerAddress[] {
    this.#expire();
    const torrent = this.#torrents.get(idHex(infoHash));
    if (!torrent || max <= 0) return [];
    const pool = [...torrent.peers.values()].filter((e) => family === undefined || e.family === family);
    const take = Math.min(max, pool.length);
    const noise = this.#random(4 * take);
    for (let i = 0; i < take; i++) {
      const r =
        ((noise[4 * i]! << 24) | (noise[4 * i + 1]! << 16) | (noise[4 * i + 2]! << 8) | noise[4 * i + 3]!) >>>
        0;
      const j = i + (r % (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, take).map((e) => ({ host: e.peer.host, port: e.peer.port }));
  }

  /** Peers stored for `infoHash`, or in all when omitted. */
  count(infoHash?: NodeId): number {
    this.#expire();
    if (infoHash === undefined) return this.#all.size;
    return this.#torrents.get(idHex(infoHash))?.peers.size ?? 0;
  }

  /** Info-hashes with at least one peer. */
  torrentCount(): number {
    this.#expire();
    return this.#torrents.size;
  }

  /** Approximate bytes held. */
  memoryBytes(): number {
    return this.#all.size * PEER_ENTRY_BYTES + this.#torrents.size * TORRENT_ENTRY_BYTES;
  }

  #expire(): void {
    const deadline = this.#clock.now() - this.#ttlMs;
    for (const entry of this.#all.values()) {
      if (entry.at > deadline) break;
      this.#remove(entry);
    }
  }

  /** Drops the info-hash whose entry is the least recently announced of all. */
  #evictTorrent(): void {
    const oldest = this.#all.values().next().value;
    if (!oldest) return;
    for (const entry of [...oldest.torrent.peers.values()]) this.#remove(entry);
  }

  #remove(entry: Entry): void {
    this.#all.delete(entry.key);
    entry.torrent.peers.delete(entry.addressKey);
    if (entry.torrent.peers.size === 0) this.#torrents.delete(entry.torrent.hex);
  }
}
