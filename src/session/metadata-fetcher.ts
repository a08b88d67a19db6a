import { EventEmitter } from 'node:events';
import { formatAddress, type PeerAddress, parseAddress } from '../address.js';
import { systemClock } from '../clock.js';
import { formatDurationMs } from '../duration.js';
import { LodestoneError } from '../errors.js';
import { asError, rethrowIfStrict } from '../internal-errors.js';
import { parseInfoDictionary } from '../metainfo/index.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { Announcer } from '../tracker/announcer.js';
import { reservedBits, supportsExtensionProtocol } from '../wire/index.js';
import { AddressBook, type PeerSource } from './address-book.js';
import { DialMemory, rememberWay } from './dial-memory.js';
import type { MetadataAssembly } from './metadata-assembly.js';
import {
  MetadataAttemptLog,
  type MetadataAttemptSummary,
  type MetadataPeerOutcome,
  metadataTimeoutMessage,
} from './metadata-attempt.js';
import type { MetadataMemoryStats } from './metadata-candidates.js';
import { dialMetadataPeer, type MetadataDialContext, metadataDialTimeouts } from './metadata-dial.js';
import { MetadataExchange } from './metadata-exchange.js';
import type {
  MetadataFetcherEvents,
  MetadataFetcherOptions,
  MetadataFetcherTimers,
  MetadataPeer,
} from './metadata-fetcher-types.js';
import type { PeerDialTimeouts } from './peer-dialer.js';
import { noPeerSourceError } from './peer-source.js';

export type { MetadataMemoryStats } from './metadata-candidates.js';
export type {
  MetadataFetcherEvents,
  MetadataFetcherOptions,
  MetadataFetcherTimers,
  MetadataProgress,
} from './metadata-fetcher-types.js';

/** How often the deadlines are checked (at most this late). */
const TICK_MS = 250;

/**
 * Fetches a magnet's info dictionary from peers (BEP 9 over BEP 10), checks
 * it against the info-hash and parses it with the same rules as a .torrent
 * file. Peers come from the magnet's trackers and `x.pe` addresses.
 */
export class MetadataFetcher extends EventEmitter<MetadataFetcherEvents> {
  readonly #options: MetadataFetcherOptions;
  readonly #infoHash: Buffer;
  readonly #book: AddressBook;
  readonly #dialing = new Set<string>();
  /** The per-peer BEP 9 exchange: the peers, their requests, the candidate assemblies. */
  readonly #exchange: MetadataExchange;
  readonly #log = new MetadataAttemptLog();
  readonly #now: () => number;
  readonly #timers: MetadataFetcherTimers;
  readonly #dialContext: MetadataDialContext;
  #lastProgressAt = 0;
  #lastReportAt = 0;
  #announcer: Announcer | undefined;
  #stopDht: (() => void) | undefined;
  #tick: unknown;
  #settle: ((result: TorrentMetadata | Error) => void) | undefined;
  #finished = false;

  constructor(options: MetadataFetcherOptions) {
    super();
    if (!options.link.infoHash) {
      throw new LodestoneError(
        'LODESTONE_ERR_UNSUPPORTED',
        'v2-only magnet links (urn:btmh) are not supported yet',
      );
    }
    this.#options = options;
    this.#infoHash = options.link.infoHash;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? systemClock;
    this.#book = new AddressBook(this.#now);
    this.#exchange = new MetadataExchange(this.#infoHash, {
      port: options.port,
      requestsPerPeer: options.requestsPerPeer ?? 16,
      now: this.#now,
      finished: () => this.#finished,
      offered: () => {
        this.#lastProgressAt = this.#now();
      },
      stored: (assembly) => {
        this.#log.blockReceived();
        this.#lastProgressAt = this.#now();
        this.#report();
        this.#check(assembly);
      },
      drop: (peer, outcome, reason) => this.#drop(peer, outcome, reason),
    });
    this.#dialContext = {
      memory: new DialMemory(),
      localHandshake: {
        reserved: reservedBits({ extensionProtocol: true }),
        infoHash: this.#infoHash,
        peerId: options.peerId,
      },
      encryption: options.encryption ?? 'prefer',
      utp: options.utp,
      bindAddress: options.bindAddress,
    };
  }

  /** Metadata assembly memory: candidate sizes and block bytes held (now and at peak). */
  get memory(): MetadataMemoryStats {
    return this.#exchange.candidates.stats;
  }

  /** What has been tried so far: trackers, peers and what became of them. */
  get attempt(): MetadataAttemptSummary {
    return this.#log.summary();
  }

  /** Peers heard of so far, so the download can start without waiting for trackers again. */
  get discoveredPeers(): PeerAddress[] {
    return this.#book.addresses();
  }

  /** Resolves with the parsed metadata; rejects when aborted. */
  fetch(signal?: AbortSignal): Promise<TorrentMetadata> {
    const link = this.#options.link;
    const useTrackers = this.#options.useTrackers !== false && link.trackers.length > 0;
    const extraPeers = this.#options.peers ?? [];
    const noSource = noPeerSourceError({
      kind: 'magnet link',
      trackers: link.trackers.length,
      useTrackers: this.#options.useTrackers !== false,
      peers: link.peers.length + extraPeers.length,
      dht: this.#options.dht !== undefined,
    });
    if (noSource) return Promise.reject(noSource);
    return new Promise<TorrentMetadata>((resolve, reject) => {
      this.#settle = (result) => {
        this.#close();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      signal?.addEventListener(
        'abort',
        () => this.#finish(new LodestoneError('LODESTONE_ERR_ABORTED', 'metadata fetch aborted')),
        {
          once: true,
        },
      );
      this.#lastProgressAt = this.#now();
      for (const address of link.peers) this.addPeer(address, 'magnet');
      for (const address of extraPeers) this.addPeer(address, 'manual');
      if (useTrackers) this.#startAnnouncer(link.trackers.map((url) => [url]));
      // A magnet is public until its metadata says otherwise: look it up (never announce: no data yet).
      this.#stopDht = this.#options.dht?.track(this.#infoHash, {
        announcePort: 0,
        wantsPeers: () => !this.#finished,
        onPeers: (peers) => {
          for (const address of peers) this.addPeer(address, 'dht', 'dht');
        },
      });
      this.#schedule();
      this.#dialMore();
    });
  }

  #startAnnouncer(tiers: string[][]): void {
    const announcer = new Announcer({
      tiers,
      infoHash: this.#infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      // The size is unknown until we have the metadata; a non-zero `left` marks us a leecher.
      stats: () => ({ uploaded: 0, downloaded: 0, left: 16_384 }),
      ...(this.#options.createTrackerClient ? { createClient: this.#options.createTrackerClient } : {}),
    });
    announcer.on('peers', (peers, url) => {
      for (const address of peers) this.addPeer(address, 'tracker', url);
    });
    for (const tier of tiers) for (const url of tier) this.#log.trackerAsked(url);
    announcer.on('response', ({ url, response }) => {
      this.#log.trackerAnswered(url);
      this.emit('tracker-response', { url, response });
    });
    announcer.on('announce-error', ({ url, error }) => {
      const message = error instanceof Error ? error.message : String(error);
      this.#log.trackerFailed(url, message);
      this.emit('tracker-error', { url, message });
    });
    this.#announcer = announcer;
    announcer.start();
  }

  /**
   * Adds a peer to ask (e.g. found by another means while fetching); `origin` says which
   * tracker or peer told us (the address book is fair across origins).
   */
  addPeer(address: PeerAddress, source: PeerSource = 'manual', origin?: string): void {
    if (this.#book.add(address, source, origin)) {
      this.#log.peerFound(formatAddress(address));
      this.#dialMore();
    }
  }

  #dialMore(): void {
    if (this.#finished) return;
    const free = (this.#options.maxPeers ?? 30) - this.#exchange.peers.size - this.#dialing.size;
    if (free <= 0) return;
    const skip = new Set([...this.#exchange.peers.keys(), ...this.#dialing]);
    const candidates = this.#book.candidates(free, skip);
    if (candidates.length === 0) return;
    const timeouts = this.#timeouts(skip);
    for (const address of candidates) this.#dial(address, timeouts);
  }

  /** The download's connect, handshake and uTP head-start times (shorter while many untried addresses wait, or no peer is connected yet). */
  #timeouts(
    skip: ReadonlySet<string> = new Set([...this.#exchange.peers.keys(), ...this.#dialing]),
  ): PeerDialTimeouts {
    return metadataDialTimeouts(this.#exchange.peers.size, this.#book.untried(skip));
  }

  /** Dials a peer the way the download does (see {@link dialMetadataPeer}). */
  #dial(address: PeerAddress, timeouts: PeerDialTimeouts): void {
    const key = formatAddress(address);
    this.#dialing.add(key);
    const { memory, encryption } = this.#dialContext;
    const attach = (connection: PeerConnection) => {
      this.#dialing.delete(key);
      this.#attach(connection);
    };
    dialMetadataPeer(address, timeouts, this.#dialContext, () => !this.#finished, attach)
      .then(
        (dialed) => {
          this.#dialing.delete(key);
          if (dialed === undefined) return;
          // After #attach: on a close, the peer is forgotten before a retry is considered.
          rememberWay(memory, dialed.connection, dialed.way, encryption, () => {
            if (!this.#finished && !this.#exchange.peers.has(key) && !this.#dialing.has(key))
              this.#dial(address, this.#timeouts());
          });
        },
        () => {
          this.#dialing.delete(key);
          this.#book.markDisconnected(key, false);
          this.#log.peerEnded(key, 'unreachable');
        },
      )
      // A bug while setting up the connection ends the fetch with it, never the host process.
      .catch((error: unknown) => this.#internalFailure(error));
  }

  #internalFailure(thrown: unknown): void {
    const error = asError(thrown);
    this.#finish(error);
    rethrowIfStrict(error);
  }

  #attach(connection: PeerConnection): void {
    const peer = this.#exchange.add(connection);
    this.#book.markConnected(connection.key);
    if (this.#options.trace) {
      connection.traced = true;
      connection.on('wire', (direction, message) =>
        this.emit('wire', { peer: connection.key, direction, message }),
      );
    }
    connection.once('handshake', (remote) => {
      peer.handshakeAt = this.#now();
      this.#log.peerConnected(connection.key);
      if (!supportsExtensionProtocol(remote.reserved)) {
        this.#drop(
          peer,
          'no-metadata',
          'peer does not support the extension protocol (BEP 10), so it cannot send metadata',
        );
        return;
      }
      this.emit('peer-connected', {
        address: connection.key,
        direction: 'outbound',
        transport: connection.transport,
        encryption: connection.encryption,
      });
      this.#exchange.greet(peer);
    });
    connection.once('close', (reason) => {
      this.#exchange.remove(peer);
      this.#book.markDisconnected(connection.key, false);
      this.#log.peerEnded(
        connection.key,
        peer.outcome ?? (peer.handshakeAt === undefined ? 'unreachable' : 'closed'),
      );
      this.emit('peer-disconnected', { address: connection.key, reason: reason ?? 'closed' });
      this.#dialMore();
    });
  }

  #check(assembly: MetadataAssembly): void {
    const verdict = assembly.verdict();
    if (verdict.kind === 'incomplete') return;
    if (verdict.kind === 'invalid') {
      this.emit('metadata-rejected', { peers: verdict.contributors });
      if (verdict.proven !== undefined) {
        this.#banLiar(verdict.proven, 'sent metadata that does not match the info-hash');
      }
      this.#exchange.requestAll();
      return;
    }
    // The metadata verified: a peer whose blocks in the failed mixed attempt differ from it lied.
    for (const { peer, piece } of verdict.liars) {
      this.#banLiar(peer, `sent metadata that does not match the info-hash (block ${piece} differs)`);
    }
    const link = this.#options.link;
    try {
      const meta = parseInfoDictionary(verdict.info, {
        announceTiers: link.trackers.map((url) => [url]),
        webSeeds: link.webSeeds,
      });
      this.#finish(meta);
    } catch (error) {
      // The hash matched, so these are the real metadata: an unsafe torrent is refused outright.
      this.#finish(
        error instanceof Error ? error : new LodestoneError('LODESTONE_ERR_METADATA', String(error)),
      );
    }
  }

  #report(): void {
    this.#lastReportAt = this.#now();
    this.emit('progress', this.#exchange.progress());
  }

  #banLiar(key: string, reason: string): void {
    this.#log.peerEnded(key, 'liar');
    const host = parseAddress(key)?.host;
    if (host !== undefined) this.#book.ban(host);
    this.emit('peer-banned', { address: key, reason });
    const peer = this.#exchange.peers.get(key);
    if (peer) this.#drop(peer, 'liar', reason);
  }

  #drop(peer: MetadataPeer, outcome: MetadataPeerOutcome, reason: string): void {
    peer.outcome ??= outcome;
    peer.connection.close(reason);
  }

  #schedule(): void {
    if (this.#finished) return;
    this.#tick = this.#timers.setTimeout(() => this.#onTick(), TICK_MS);
  }

  #onTick(): void {
    if (this.#finished) return;
    const now = this.#now();
    const extensionMs = this.#options.extensionHandshakeTimeoutMs ?? 10_000;
    for (const peer of [...this.#exchange.peers.values()]) {
      if (!peer.extended && peer.handshakeAt !== undefined && now - peer.handshakeAt >= extensionMs) {
        this.#drop(peer, 'timed-out', `sent no extension handshake within ${formatDurationMs(extensionMs)}`);
      }
    }
    const blockMs = this.#options.blockTimeoutMs ?? 8000;
    for (const assembly of [...this.#exchange.candidates.assemblies()]) {
      for (const key of assembly.expire(blockMs)) {
        const peer = this.#exchange.peers.get(key);
        if (peer) {
          this.#drop(peer, 'timed-out', `answered no metadata request within ${formatDurationMs(blockMs)}`);
        }
      }
    }
    const deadline = this.#options.metadataTimeoutMs ?? 300_000;
    if (deadline > 0 && Number.isFinite(deadline) && now - this.#lastProgressAt >= deadline) {
      this.#finish(
        new LodestoneError('LODESTONE_ERR_METADATA', metadataTimeoutMessage(deadline, this.#log.summary())),
      );
      return;
    }
    this.#exchange.requestAll();
    this.#dialMore();
    if (now - this.#lastReportAt >= 1000) this.#report();
    this.#schedule();
  }

  #finish(result: TorrentMetadata | Error): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#settle?.(result);
  }

  #close(): void {
    if (this.#tick !== undefined) this.#timers.clearTimeout(this.#tick);
    this.#stopDht?.();
    for (const peer of this.#exchange.peers.values()) peer.connection.close('metadata phase over');
    this.#announcer?.stop().catch((error: unknown) => this.#internalFailure(error));
  }
}
