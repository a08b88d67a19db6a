import type { EventEmitter } from 'node:events';
import { formatAddress, type PeerAddress } from '../address.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { Announcer } from '../tracker/announcer.js';
import type { AnnounceResponse } from '../tracker/types.js';
import { AddressBook, type PeerSource } from './address-book.js';
import type { SessionDht } from './dht-torrent.js';
import type { PeerState } from './peer-state.js';
import { PexExchange } from './pex-exchange.js';
import type { SessionStats, TorrentSessionEvents, TorrentSessionOptions } from './session-types.js';

/** What a torrent's discovery needs of its session. */
export interface TorrentDiscoveryContext {
  meta: TorrentMetadata;
  options: Pick<
    TorrentSessionOptions,
    | 'peerId'
    | 'port'
    | 'bindAddress'
    | 'useTrackers'
    | 'createTrackerClient'
    | 'trackerRetryBaseMs'
    | 'announceSpread'
    | 'dht'
  >;
  /** The session's connected peers (PEX tells them what we know). */
  peers: Map<string, PeerState>;
  events: EventEmitter<TorrentSessionEvents>;
  /** Reports what a callback throws as an internal error instead of throwing it. */
  guard: <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void;
  /** A new address waits: dial it soon. */
  dialSoon: () => void;
  /** More peers would be useful (the DHT looks up while this holds). */
  wantsPeers: () => boolean;
  /** Every wanted piece is verified (the DHT announces us as a seed). */
  seeding: () => boolean;
  /** The session's totals, for announces. */
  stats: () => SessionStats;
}

/**
 * Where a torrent's peer addresses come from: the address book they all feed, the trackers
 * (BEP 3, BEP 12), the DHT (BEP 5) and PEX (BEP 11). The session dials what the book holds.
 */
export class TorrentDiscovery {
  readonly book = new AddressBook();
  readonly #context: TorrentDiscoveryContext;
  #announcer: Announcer | undefined;
  #pex: PexExchange | undefined;
  /** Takes the first announce out of the client's queue (stopped before its turn). */
  #cancelAnnounce: (() => void) | undefined;
  #stopDht: (() => void) | undefined;

  constructor(context: TorrentDiscoveryContext) {
    this.#context = context;
  }

  /** The client's DHT, never for a private torrent (BEP 27). */
  get dht(): SessionDht | undefined {
    return this.#context.meta.private ? undefined : this.#context.options.dht;
  }

  /** The PEX exchange, once `createPex` made it. */
  get pex(): PexExchange | undefined {
    return this.#pex;
  }

  /** Adds an address to the book; a new one is dialled soon. */
  add(address: PeerAddress, source: PeerSource, origin?: string): void {
    if (this.book.add(address, source, origin)) this.#context.dialSoon();
  }

  /** BEP 11: addresses peers tell us go to the book as `pex:<peer IP>`, dialled like the others. */
  createPex(): PexExchange {
    const { meta, options, events } = this.#context;
    this.#pex = new PexExchange({
      peers: this.#context.peers,
      private: meta.private,
      port: options.port,
      bindAddress: options.bindAddress,
      now: Date.now,
      learn: (address, origin) => {
        const added = this.book.add(address, 'pex', origin);
        if (added) this.#context.dialSoon();
        return added;
      },
      // A listener's throw is ours to report, not a strike against the peer whose message it was.
      learned: this.#context.guard((from: string, addresses: PeerAddress[]) =>
        events.emit('peers-learned', { source: 'pex', from, addresses: addresses.map(formatAddress) }),
      ),
    });
    return this.#pex;
  }

  /** Starts the trackers' announces and the DHT's lookups. */
  start(): void {
    this.#startAnnouncer();
    this.#startDht();
  }

  /** Asks the trackers for peers as soon as their `min interval` allows. */
  reannounce(): void {
    this.#announcer?.announceNow();
  }

  /** Tells the trackers the download completed. */
  completed(): void {
    this.#announcer?.completed();
  }

  /** Ends the DHT's lookups and a first announce still waiting its turn. */
  halt(): void {
    this.#cancelAnnounce?.();
    this.#stopDht?.();
  }

  /** Tells the trackers `stopped`. */
  async stopAnnouncer(): Promise<void> {
    await this.#announcer?.stop();
  }

  /** BEP 5: lookups (and announces when we listen) now and on a schedule while we want peers. */
  #startDht(): void {
    const dht = this.dht;
    if (!dht) return;
    const { meta, options, events } = this.#context;
    this.#stopDht = dht.track(meta.infoHash, {
      announcePort: options.port,
      wantsPeers: this.#context.wantsPeers,
      seeding: this.#context.seeding,
      onPeers: (peers) => {
        const added = peers.filter((address) => this.book.add(address, 'dht', 'dht'));
        if (added.length === 0) return;
        events.emit('peers-learned', { source: 'dht', from: 'dht', addresses: added.map(formatAddress) });
        this.#context.dialSoon();
      },
    });
  }

  #startAnnouncer(): void {
    const { meta, options, events, guard } = this.#context;
    const tiers = options.useTrackers === false ? [] : meta.announceTiers;
    if (tiers.length === 0) return;
    const announcer = new Announcer({
      tiers,
      infoHash: meta.infoHash,
      peerId: options.peerId,
      port: options.port,
      stats: () => {
        const stats = this.#context.stats();
        return {
          uploaded: stats.uploadedBytes,
          downloaded: stats.downloadedBytes,
          // As libtorrent and Transmission do: what is left of the wanted files.
          left: stats.wantedBytes - stats.wantedVerifiedBytes,
        };
      },
      ...(options.createTrackerClient ? { createClient: options.createTrackerClient } : {}),
      // Declared in the options but was never passed on (fault tests shorten the back-off).
      ...(options.trackerRetryBaseMs !== undefined ? { retryBaseMs: options.trackerRetryBaseMs } : {}),
    });
    // The announcer calls these from its own promise chains: a throw there would be unhandled.
    announcer.on(
      'peers',
      guard((peers: PeerAddress[], url: string) => {
        for (const address of peers) this.add(address, 'tracker', url);
      }),
    );
    announcer.on(
      'response',
      guard(({ url, response }: { url: string; response: AnnounceResponse }) =>
        events.emit('tracker-response', { url, response }),
      ),
    );
    announcer.on(
      'announce-error',
      guard(({ url, error }: { url: string; error: unknown }) =>
        events.emit('tracker-error', {
          url,
          message: error instanceof Error ? error.message : String(error),
        }),
      ),
    );
    announcer.on(
      'warning',
      guard(({ url, message }: { url: string; message: string }) =>
        events.emit('tracker-warning', { url, message }),
      ),
    );
    this.#announcer = announcer;
    // The client spreads its torrents' first announces (AnnounceSpread); alone, at once.
    const spread = options.announceSpread;
    if (spread) this.#cancelAnnounce = spread.schedule(guard(() => announcer.start()));
    else announcer.start();
  }
}
