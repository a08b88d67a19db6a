import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { PeerAddress } from '../address.js';
import { asError, rethrowIfStrict, warnUnheard } from '../internal-errors.js';
import type { MagnetLink, TorrentMetadata } from '../metainfo/types.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import { UdpSocket } from '../net/udp-socket.js';
import { UtpError } from '../net/utp/utp-error.js';
import { UtpSocketManager } from '../net/utp/utp-socket-manager.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { PeerListener } from '../peer/listener.js';
import { DialBudget } from '../policy/dial-budget.js';
import type { PeerLimits } from '../policy/peer-budget.js';
import { FileStorage } from '../storage/file-storage.js';
import { HashPool } from '../storage/hasher.js';
import type { ResumeStore } from '../storage/resume-store.js';
import type { Storage } from '../storage/types.js';
import { createTrackerClient } from '../tracker/create-tracker.js';
import type { TrackerClient } from '../tracker/types.js';
import { generatePeerId } from '../wire/index.js';
import { ClientBandwidth, type RateLimits } from './bandwidth-limits.js';
import { ClientShared } from './client-shared.js';
import { type ClientDhtStats, type DhtOptions, DhtService } from './dht-service.js';
import { dhtStateFile } from './dht-state-file.js';
import { type DiscoveryProbeOptions, runDiscoveryProbe } from './discovery-probe.js';
import type { DoctorReport } from './doctor-report.js';
import type { FileChoice } from './file-selection.js';
import { MetadataFetcher, type MetadataFetcherOptions } from './metadata-fetcher.js';
import { type InternalErrorInfo, TorrentSession } from './torrent-session.js';

/** Options of a {@link Client}: identity, listening and limits shared by all its torrents. */
export interface ClientOptions {
  /** First port to listen on; 0 picks any free port; `false` disables listening. @default 6881 */
  port?: number | false;
  /** Address to listen on and to dial from (e.g. 127.0.0.2 in tests). */
  bindAddress?: string;
  /** Most peers connected at once per torrent. @default 50 */
  maxPeersPerTorrent?: number;
  /**
   * Most peers connected at once over all torrents (Transmission's `peer-limit-global`): dialling
   * stops and incoming peers are refused at it; once full, a torrent below its fair share (this
   * divided by the number of torrents) gets a slot from the torrent with the most peers. See
   * docs/scale.md. @default 200
   */
  maxPeers?: number;
  /** Bytes of pieces kept in memory for uploading, over all torrents (one LRU). @default 16 MiB */
  readCacheBytes?: number;
  /** SHA-1 worker threads. @default the number of cores minus one (at least one) */
  hashWorkers?: number;
  /** Our 20-byte peer id. @default `-LS<version>-` followed by 12 random printable characters */
  peerId?: Buffer;
  /**
   * Makes the tracker client for an announce URL (tests, custom transports).
   * @default HTTP or UDP by the URL's scheme, announcing from `bindAddress`
   */
  createTrackerClient?: (url: string) => TrackerClient;
  /**
   * Time a peer has to complete its handshake, on connections we accept and on those we dial;
   * a peer that dribbles it or says nothing is dropped then (slowloris). @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * Protocol encryption (MSE/PE): `prefer` dials encrypted first and falls back to plaintext
   * (remembering per peer what worked) and accepts both; `require` uses RC4 only, both ways;
   * `allow` dials in plaintext first and accepts both; `disable` is plaintext only. @default 'prefer'
   */
  encryption?: EncryptionPolicy;
  /**
   * uTP (BEP 29): one UDP socket on the listener's address and port accepts uTP peers like TCP
   * ones, and peers are dialled over uTP first, over TCP too when uTP has not connected within a
   * second (the transport that worked is remembered per address). `false`: no UDP socket, TCP
   * only. @default true
   */
  utp?: boolean;
  /**
   * Fast resume: keep a record per torrent in this store (e.g. a {@link DirectoryResumeStore}),
   * so a torrent whose files have not changed since the last run starts without re-hashing. A
   * torrent added with `resume: false` neither reads nor writes one. See docs/resume.md.
   * @default none: every start checks every piece
   */
  resume?: ResumeStore;
  /**
   * The DHT (BEP 5, BEP 32 over IPv6 when the client listens on every address): a node on the
   * client's UDP socket (opened for it when `utp` is false) that finds peers of every public
   * torrent and magnet (never of a private one, BEP 27) and announces those we serve. It starts
   * at `listen`. Off unless asked: a library client sends no DHT traffic by default, and joins
   * only through the `bootstrap` nodes you give (and the saved table). @default false
   */
  dht?: false | DhtOptions;
  /**
   * Download limit for all torrents together, in bytes per second, counting payload and protocol
   * overhead (docs/rate-limits.md); change it live with `setLimits`. @default 0 (unlimited)
   */
  downloadLimit?: number;
  /** Upload limit for all torrents together, as `downloadLimit`. @default 0 (unlimited) */
  uploadLimit?: number;
}

/** Options of {@link Client.add}: where one torrent's files go and how it finds peers. */
export interface AddTorrentOptions {
  /** Folder the files are written to (a multi-file torrent's top folder is created inside it). */
  path: string;
  /** Keep running after completion, serving peers, until `stop()`. @default false */
  seed?: boolean;
  /** Peers to dial at once, besides those the trackers return (e.g. a magnet's `x.pe`). */
  peers?: PeerAddress[];
  /** Announce to the torrent's trackers. @default true */
  useTrackers?: boolean;
  /**
   * Check the files already in `path` before downloading, so an interrupted download resumes
   * with what is there. `false` assumes nothing is there. @default true
   */
  checkExisting?: boolean;
  /** Emit a `wire` event for every peer-wire message sent and received (`--trace`). @default false */
  trace?: boolean;
  /** Where pieces are read and written. @default a FileStorage on `path` */
  storage?: Storage;
  /** Peers unchoked at once (plus one optimistic unchoke). @default 4 */
  uploadSlots?: number;
  /** Use the client's resume store for this torrent (read and write its record). @default true */
  resume?: boolean;
  /** Resume record saves while pieces arrive, at most this often. @default 30000 */
  resumeSaveIntervalMs?: number;
  /**
   * This torrent's own download limit in bytes per second (the client's applies too); change
   * it live with `session.setLimits`. @default 0 (unlimited)
   */
  downloadLimit?: number;
  /** This torrent's own upload limit in bytes per second. @default 0 (unlimited) */
  uploadLimit?: number;
  /** Which files to download, one choice per file (see docs/file-selection.md). @default all, normal */
  files?: readonly FileChoice[];
  /** Download pieces in order, each wanted file's first and last piece first. @default false */
  sequential?: boolean;
  /** Part file for wanted pieces' bytes in unwanted files. @default `<path>/.<infohash hex>.parts` */
  partFile?: string;
}

export interface ClientEvents {
  /**
   * A torrent's fatal failure (a full disk, a file that cannot be written): its download
   * stopped. The session stays in the client (it still serves what it has) until you
   * `remove` it or `close` the client; `session.failure` keeps the error.
   */
  error: [error: Error, session: TorrentSession];
  /** A programming error caught at a boundary in one of the torrents (see TorrentSessionEvents). */
  'internal-error': [info: InternalErrorInfo & { session: TorrentSession }];
  /** The DHT finished bootstrapping; `nodes` is the routing table's size then. */
  'dht-ready': [info: { nodes: number }];
  /** The DHT goes on, but something is worth saying (a corrupt state file ignored, a bootstrap host not found). */
  'dht-warning': [info: { message: string }];
}

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
  #listener: PeerListener | undefined;
  #port = 0;
  #udp: UdpSocket | undefined;
  #utp: UtpSocketManager | undefined;
  /** Dials over the client's uTP socket once it is open (TCP only before `listen`). */
  readonly #utpDialer: UtpDialer = (host, port, signal) => {
    const utp = this.#utp;
    if (utp === undefined || !this.#udp?.hasFamily(host.includes(':') ? 'IPv6' : 'IPv4'))
      return Promise.reject(new UtpError('refused', 'no uTP socket for this address family'));
    return utp.connect(host, port, signal);
  };
  #dht: DhtService | undefined;
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
    return this.#port;
  }

  /**
   * Incoming connections still handshaking now, and the most at once since `listen` (both 0 when
   * not listening); bounded by the listener's pending table (64).
   */
  get pendingHandshakes(): { now: number; peak: number } {
    return {
      now: this.#listener?.pendingHandshakes ?? 0,
      peak: this.#listener?.peakPendingHandshakes ?? 0,
    };
  }

  /** The UDP port uTP peers reach us on: the listener's port; 0 when there is no UDP socket. */
  get utpPort(): number {
    // The socket may be open for the DHT alone (utp: false): then there is no uTP port.
    return this.#utp ? (this.#udp?.address().port ?? 0) : 0;
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
  async listen(): Promise<number> {
    if (this.#options.port === false || this.#listener) return this.#port;
    const listener = new PeerListener({
      port: this.#options.port ?? 6881,
      ...(this.#options.bindAddress ? { host: this.#options.bindAddress } : {}),
      ...(this.#options.handshakeTimeoutMs !== undefined
        ? { handshakeTimeoutMs: this.#options.handshakeTimeoutMs }
        : {}),
      encryption: this.#options.encryption ?? 'prefer',
      // One map lookup, not a SHA-1 per torrent per encrypted connection (1,000 torrents).
      lookupSkey: (req2) => this.#shared.lookupReq2(req2),
    });
    listener.on('handshake', (socket, handshake, leftover, address, encryption, transport) => {
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
    });
    this.#port = await listener.listen();
    this.#listener = listener;
    if (this.#options.utp !== false) await this.#openUtp(listener);
    if (this.#options.dht) await this.#startDht(this.#options.dht);
    return this.#port;
  }

  /**
   * The DHT node on the UDP socket (opened for it alone without uTP: on the listener's port, or
   * any port when that is taken). Without a UDP socket the client runs without DHT.
   */
  async #startDht(options: DhtOptions): Promise<void> {
    if (!this.#udp) {
      const bind = this.#options.bindAddress;
      for (const port of [this.#port, 0]) {
        try {
          this.#udp = await UdpSocket.bind({
            host: bind ?? '0.0.0.0',
            port,
            ...(bind ? {} : { host6: '::' }),
          });
          break;
        } catch {
          // taken for UDP (or no IPv6): try any port
        }
      }
      if (!this.#udp) {
        this.emit('dht-warning', { message: 'no UDP socket for the DHT; running without it' });
        return;
      }
    }
    const store = options.state ?? (options.stateFile ? dhtStateFile(options.stateFile) : undefined);
    const dht = new DhtService(this.#udp, options, store);
    dht.on('ready', (info) => this.emit('dht-ready', info));
    dht.on('warning', (info) => {
      if (this.listenerCount('dht-warning') > 0) this.emit('dht-warning', info);
    });
    this.#dht = dht;
    await dht.start();
  }

  /** The DHT's counters (routing table, lookups, peers found), or undefined when it is off. */
  get dhtStats(): ClientDhtStats | undefined {
    return this.#dht?.stats();
  }

  /** The DHT's UDP port (0 when the DHT is off). */
  get dhtPort(): number {
    return this.#dht ? this.#dht.port : 0;
  }

  /**
   * The UDP socket for uTP, on the TCP listener's address and port (bound after it, so a port
   * 0 listener works): the bind address's family only when there is one (IPv4 or IPv6), else
   * `0.0.0.0` and, when it can, `::` on the same port. When the port is taken for UDP the client
   * runs TCP only (or IPv4 uTP only): uTP is optional.
   */
  async #openUtp(listener: PeerListener): Promise<void> {
    const bind = this.#options.bindAddress;
    let udp: UdpSocket | undefined;
    try {
      udp = await UdpSocket.bind({
        host: bind ?? '0.0.0.0',
        port: this.#port,
        ...(bind ? {} : { host6: '::' }),
      });
    } catch {
      try {
        if (bind === undefined) udp = await UdpSocket.bind({ host: '0.0.0.0', port: this.#port });
      } catch {
        udp = undefined;
      }
    }
    if (udp === undefined) return;
    const utp = new UtpSocketManager((datagram, port, host) => udp.send(datagram, port, host));
    udp.addRoute(utp.route);
    utp.on('connection', (stream) => {
      stream.on('error', () => stream.destroy());
      listener.accept(stream, { host: stream.remoteAddress, port: stream.remotePort }, 'utp');
    });
    this.#udp = udp;
    this.#utp = utp;
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
      port: this.#port,
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
      ...(this.#options.utp !== false ? { utp: this.#utpDialer } : {}),
      ...(this.#options.createTrackerClient
        ? { createTrackerClient: this.#options.createTrackerClient }
        : {}),
      ...(this.#dht && !meta.private ? { dht: this.#dht.forTorrent() } : {}),
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
      port: this.#port,
      ...options,
      ...(this.#dht ? { dht: this.#dht.forTorrent() } : {}),
      ...(this.#options.bindAddress ? { bindAddress: this.#options.bindAddress } : {}),
      encryption: this.#options.encryption ?? 'prefer',
      ...(this.#options.utp !== false ? { utp: this.#utpDialer } : {}),
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
        port: this.#port,
        bindAddress: this.#options.bindAddress,
        createTrackerClient: this.#options.createTrackerClient,
        ...(this.#options.utp !== false ? { utp: this.#utpDialer } : {}),
        ...(this.#dht ? { dht: this.#dht } : {}),
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
    await this.#listener?.close();
    await this.#dht?.close();
    this.#dht = undefined;
    this.#utp?.close();
    this.#udp?.close();
    this.#utp = undefined;
    this.#udp = undefined;
    await this.#hashPool.destroy();
  }
}
