import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { asError, rethrowIfStrict, warnUnheard } from '../internal-errors.js';
import type { MagnetLink, TorrentMetadata } from '../metainfo/types.js';
import { DialBudget } from '../policy/dial-budget.js';
import type { PeerLimits } from '../policy/peer-budget.js';
import { FileStorage } from '../storage/file-storage.js';
import { HashPool } from '../storage/hasher.js';
import { createTrackerClient } from '../tracker/create-tracker.js';
import { generatePeerId } from '../wire/index.js';
import { ClientBandwidth, type RateLimits } from './bandwidth-limits.js';
import { ClientShared } from './client-shared.js';
import { ClientTransports } from './client-transports.js';
import type { ClientDhtStats } from './dht-service.js';
import { type DiscoveryProbeOptions, runDiscoveryProbe } from './discovery-probe.js';
import type { DoctorReport } from './doctor-report.js';
import { MetadataFetcher, type MetadataFetcherOptions } from './metadata-fetcher.js';
import { TorrentSession } from './torrent-session.js';

export type { AddTorrentOptions, ClientEvents, ClientOptions } from './client-types.js';

import type { AddTorrentOptions, ClientEvents, ClientOptions } from './client-types.js';

/**
 * Many torrents, one listener, one hash pool: the entry point of the library.
 *
 * Errors never end the host process. Each torrent's fatal failure is emitted
 * on its session and re-emitted here as `'error'` with the session. Unlike
 * `net.Server`, a Client with no `'error'` listener does not throw: the
 * failure happens in I/O callbacks, where a throw could only be an uncaught
 * exception or unhandled rejection that kills whatever process embeds
 * Lodestone. Unheard (no listener on the client nor on the session), it
 * becomes a process warning, and stays readable as `session.failure`; the
 * failed torrent stops downloading in every case. Listen for `'error'` (or
 * wait with `events.once(session, 'done')`, which rejects on it) to act on it.
 */
export class Client extends EventEmitter<ClientEvents> {
  /** Our 20-byte peer id, the same for every torrent of this client. */
  readonly peerId: Buffer;
  readonly #options: ClientOptions;
  readonly #sessions = new Map<string, TorrentSession>();
  readonly #hashPool: HashPool;
  /** One dial budget for every torrent: the half-open bound holds for the process. */
  readonly #dialBudget = new DialBudget(Date.now);
  readonly #bandwidth: ClientBandwidth;
  /** The listener, the UDP socket (uTP, DHT) and the DHT node. */
  readonly #transports: ClientTransports;
  /** What the torrents share: connection budget, read-cache bound, tick (docs/scale.md). */
  readonly #shared: ClientShared;

  constructor(options: ClientOptions = {}) {
    super();
    const localAddress = options.bindAddress;
    // Announce from the address we listen on, so trackers hand that address to others.
    this.#options =
      options.createTrackerClient || !localAddress
        ? options
        : {
            ...options,
            createTrackerClient: (url) =>
              createTrackerClient(url, { http: { localAddress }, udp: { localAddress } }),
          };
    this.peerId = options.peerId ?? generatePeerId();
    this.#bandwidth = new ClientBandwidth({ download: options.downloadLimit, upload: options.uploadLimit });
    this.#shared = new ClientShared(options);
    this.#transports = new ClientTransports({
      options: this.#options,
      events: this,
      lookupReq2: (req2) => this.#shared.lookupReq2(req2),
      onHandshake: (socket, handshake, leftover, address, encryption, transport) => {
        const session = this.#sessions.get(Buffer.from(handshake.infoHash).toString('hex'));
        if (!session) {
          socket.destroy();
          return;
        }
        try {
          session.acceptIncoming(socket, handshake, leftover, address, encryption, transport);
        } catch (thrown) {
          // Ours, not the peer's: that connection ends, the process does not.
          socket.destroy();
          const error = asError(thrown);
          if (this.listenerCount('internal-error') > 0) this.emit('internal-error', { error, session });
          else warnUnheard('internal-error', error, `torrent ${session.meta.name}`);
          rethrowIfStrict(error);
        }
      },
    });
    // Only checking existing data (start of a resumed download or a seed) uses
    // the pool, so its threads start on demand and end when idle; downloaded
    // pieces are hashed incrementally as blocks arrive (PieceAssembler). One
    // core stays with the main thread (sockets, disk).
    this.#hashPool = new HashPool({
      workers: options.hashWorkers ?? Math.max(1, availableParallelism() - 1),
    });
  }

  /** The port we listen on (0 before `listen` or when not listening). */
  get port(): number {
    return this.#transports.port;
  }

  /**
   * Incoming connections still handshaking now, and the most at once since `listen` (both 0 when
   * not listening); bounded by the listener's pending table (64).
   */
  get pendingHandshakes(): { now: number; peak: number } {
    return this.#transports.pendingHandshakes;
  }

  /** The UDP port uTP peers reach us on: the listener's port; 0 when there is no UDP socket. */
  get utpPort(): number {
    return this.#transports.utpPort;
  }

  /** The connection caps now: `global` over all torrents, `perTorrent` for each. */
  get peerLimits(): PeerLimits {
    return this.#shared.peerBudget.limits;
  }

  /** Peers connected now over all torrents (what `maxPeers` bounds). */
  get connectedPeers(): number {
    return this.#shared.peerBudget.total;
  }

  /** The read caches' shared bound and what they hold now (pieces and pooled buffers), in bytes. */
  get readCache(): { maxBytes: number; cachedBytes: number; pooledBytes: number; peakBytes: number } {
    const budget = this.#shared.readCacheBudget;
    return {
      maxBytes: budget.maxBytes,
      cachedBytes: budget.cachedBytes,
      pooledBytes: budget.pooledBytes,
      peakBytes: budget.peakBytes,
    };
  }

  /**
   * Changes the connection caps live (the daemon's `peer-limit-global`/`peer-limit-per-torrent`).
   * Connections above a lowered cap are not closed; no new ones open until below it. Throws
   * LODESTONE_ERR_USAGE for a limit that is not an integer ≥ 1.
   */
  setPeerLimits(limits: { global?: number; perTorrent?: number }): void {
    // Torrents dial up to a raised cap at their next tick (within a second).
    this.#shared.peerBudget.setLimits(limits);
  }

  /** The SHA-1 worker pool the client's torrents share (also usable for `createTorrent`). */
  get hashPool(): HashPool {
    return this.#hashPool;
  }

  /**
   * Starts listening for incoming peers on `port` (trying the next ports if taken) and resolves
   * with the port bound. Call it before `add`, so trackers are told the right port.
   */
  listen(): Promise<number> {
    return this.#transports.listen();
  }

  /** The DHT's counters (routing table, lookups, peers found), or undefined when it is off. */
  get dhtStats(): ClientDhtStats | undefined {
    return this.#transports.dhtStats;
  }

  /** The DHT's UDP port (0 when the DHT is off). */
  get dhtPort(): number {
    return this.#transports.dhtPort;
  }

  /**
   * Changes the client-wide rate limits live (bytes per second for all torrents together, 0 or
   * undefined = unlimited; a key left out keeps its value). Throws a `LODESTONE_ERR_USAGE`
   * error for a negative or non-finite rate.
   */
  setLimits(limits: RateLimits): void {
    this.#bandwidth.setLimits(limits);
  }

  /**
   * Adds a torrent and returns its session, not yet started: attach listeners, then call
   * `session.start()`. Adding the same info-hash twice returns the existing session.
   */
  add(meta: TorrentMetadata, options: AddTorrentOptions): TorrentSession {
    const key = meta.infoHashHex;
    if (this.#sessions.has(key)) return this.#sessions.get(key)!;
    const session = new TorrentSession({
      meta,
      storage:
        options.storage ??
        new FileStorage(meta, resolve(options.path), options.partFile ? { partFile: options.partFile } : {}),
      hashPool: this.#hashPool,
      peerId: this.peerId,
      port: this.#transports.port,
      maxPeers: this.#options.maxPeersPerTorrent ?? 50,
      ...this.#shared.sessionOptions(),
      dialBudget: this.#dialBudget,
      clientBandwidth: this.#bandwidth,
      ...(options.downloadLimit !== undefined ? { downloadLimit: options.downloadLimit } : {}),
      ...(options.uploadLimit !== undefined ? { uploadLimit: options.uploadLimit } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.peers ? { peers: options.peers } : {}),
      ...(options.useTrackers !== undefined ? { useTrackers: options.useTrackers } : {}),
      ...(options.checkExisting !== undefined ? { checkExisting: options.checkExisting } : {}),
      ...(options.trace !== undefined ? { trace: options.trace } : {}),
      ...(this.#options.resume && options.resume !== false
        ? {
            resume: this.#options.resume,
            savePath: resolve(options.path),
            ...(options.resumeSaveIntervalMs !== undefined
              ? { resumeSaveIntervalMs: options.resumeSaveIntervalMs }
              : {}),
          }
        : {}),
      ...(options.uploadSlots !== undefined ? { uploadSlots: options.uploadSlots } : {}),
      ...(options.files ? { files: options.files } : {}),
      ...(options.sequential !== undefined ? { sequential: options.sequential } : {}),
      ...(options.partFile !== undefined ? { partFile: options.partFile } : {}),
      ...(this.#options.bindAddress ? { bindAddress: this.#options.bindAddress } : {}),
      ...(this.#options.handshakeTimeoutMs !== undefined
        ? { handshakeTimeoutMs: this.#options.handshakeTimeoutMs }
        : {}),
      ...(this.#options.encryption ? { encryption: this.#options.encryption } : {}),
      ...(this.#options.utp !== false ? { utp: this.#transports.utpDialer } : {}),
      ...(this.#options.createTrackerClient
        ? { createTrackerClient: this.#options.createTrackerClient }
        : {}),
      ...(this.#transports.dht && !meta.private ? { dht: this.#transports.dht.forTorrent() } : {}),
    });
    this.#sessions.set(key, session);
    this.#shared.added(session);
    this.#watch(session);
    return session;
  }

  /**
   * A fetcher for a magnet's metadata, set up with this client's identity and addresses, and
   * dialling as its torrents do: the same encryption policy, uTP first (once `listen` opened the
   * UDP socket) and TCP after a head start, remembering per address what worked.
   */
  metadataFetcher(
    link: MagnetLink,
    options: Pick<MetadataFetcherOptions, 'useTrackers' | 'trace' | 'metadataTimeoutMs' | 'peers'> = {},
  ): MetadataFetcher {
    return new MetadataFetcher({
      link,
      peerId: this.peerId,
      port: this.#transports.port,
      ...options,
      ...(this.#transports.dht ? { dht: this.#transports.dht.forTorrent() } : {}),
      ...(this.#options.bindAddress ? { bindAddress: this.#options.bindAddress } : {}),
      encryption: this.#options.encryption ?? 'prefer',
      ...(this.#options.utp !== false ? { utp: this.#transports.utpDialer } : {}),
      ...(this.#options.createTrackerClient
        ? { createTrackerClient: this.#options.createTrackerClient }
        : {}),
    });
  }

  /**
   * Probes a torrent's discovery for a bounded time without downloading (`lodestone doctor`):
   * every tracker, every peer found, dialled the way this client dials (its encryption policy,
   * uTP then TCP once `listen` opened the UDP socket). See {@link runDiscoveryProbe}.
   */
  probeDiscovery(
    options: Omit<
      DiscoveryProbeOptions,
      'peerId' | 'port' | 'utp' | 'bindAddress' | 'createTrackerClient' | 'dht'
    >,
    signal?: AbortSignal,
  ): Promise<DoctorReport> {
    return runDiscoveryProbe(
      {
        encryption: this.#options.encryption ?? 'prefer',
        ...options,
        peerId: this.peerId,
        port: this.#transports.port,
        bindAddress: this.#options.bindAddress,
        createTrackerClient: this.#options.createTrackerClient,
        ...(this.#options.utp !== false ? { utp: this.#transports.utpDialer } : {}),
        ...(this.#transports.dht ? { dht: this.#transports.dht } : {}),
      },
      signal,
    );
  }

  /** Stops a torrent (trackers told `stopped`, files closed) and forgets it. */
  async remove(session: TorrentSession): Promise<void> {
    this.#sessions.delete(session.meta.infoHashHex);
    this.#shared.removed(session);
    await session.stop();
  }

  /** Forwards a session's failures and internal errors to the client's listeners (see the class). */
  #watch(session: TorrentSession): void {
    session.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error, session);
      // Heard if the owner listens on the session itself (this listener is one of them).
      else if (session.listenerCount('error') <= 1)
        warnUnheard('error', error, `torrent ${session.meta.name}`);
    });
    session.on('internal-error', (info) => {
      if (this.listenerCount('internal-error') > 0) this.emit('internal-error', { ...info, session });
      else if (session.listenerCount('internal-error') <= 1)
        warnUnheard('internal-error', info.error, `torrent ${session.meta.name}`);
    });
  }

  /** Stops every torrent, the listener, the UDP socket and the hash workers. */
  async close(): Promise<void> {
    await Promise.all([...this.#sessions.values()].map((session) => session.stop()));
    this.#sessions.clear();
    this.#shared.close();
    await this.#transports.close();
    await this.#hashPool.destroy();
  }
}
