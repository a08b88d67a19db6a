import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { formatAddress, type PeerAddress, parseAddress } from '../address.js';
import { Bitfield } from '../bitfield.js';
import { LodestoneError } from '../errors.js';
import { asError, rethrowIfStrict, warnUnheard } from '../internal-errors.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { ConnectionEncryption } from '../net/mse/policy.js';
import type { PeerTransport } from '../peer/dial-transport.js';
import { PeerConnection } from '../peer/peer-connection.js';
import { DialBudget } from '../policy/dial-budget.js';
import { peersToRotate } from '../policy/peer-rotation.js';
import { PiecePicker } from '../policy/piece-picker.js';
import { ReadCache } from '../storage/read-cache.js';
import { Announcer } from '../tracker/announcer.js';
import type { AnnounceResponse } from '../tracker/types.js';
import { reservedBits } from '../wire/index.js';
import type { Handshake } from '../wire/types.js';
import { AddressBook, type PeerSource } from './address-book.js';
import { TorrentBandwidth, type TorrentRateLimits } from './bandwidth-limits.js';
import type { SessionDht } from './dht-torrent.js';
import { Downloader } from './downloader.js';
import {
  allFilesWanted,
  checkFileChoices,
  type FileChoice,
  fileProgress,
  piecePriorities,
  sequentialFirstPieces,
  wantedSummary,
  wantedVerifiedBytes,
} from './file-selection.js';
import { DEFAULT_MEMORY_BUDGET, maxPartialPieces, pieceBufferBytes } from './memory-bounds.js';
import { PeerDialer } from './peer-dialer.js';
import { classifyDialError } from './peer-failure.js';
import { PeerState } from './peer-state.js';
import { PexExchange } from './pex-exchange.js';
import { PieceAssembler } from './piece-assembler.js';
import { checkAtStart } from './resume-check.js';
import { type ResumeKeeper, resumeKeeperFor } from './resume-keeper.js';
import { SessionPeerHandler } from './session-peer-handler.js';
import { Uploader } from './uploader.js';

export type {
  InternalErrorInfo,
  SessionStats,
  TorrentSessionEvents,
  TorrentSessionOptions,
} from './session-types.js';

import type { SessionStats, TorrentSessionEvents, TorrentSessionOptions } from './session-types.js';

/** We offer BEP 6 (the fast extension) in every handshake; the handler applies it per peer. */
const FAST_EXTENSION = true;

/**
 * One torrent: finds peers, downloads and verifies pieces, serves them back.
 * It wires the mechanisms (connections, storage, trackers) to the policies
 * (picker, address book) and reports through typed events.
 *
 * Failures never end the host process. A fatal failure (a full disk) stops
 * the download, is kept in `failure`, and is emitted as 'error' to listeners;
 * unlike a plain EventEmitter, a session with no 'error' listener does not
 * throw (the failure arises in I/O callbacks, where a throw is an uncaught
 * exception) but emits a process warning. In a `Client`, the client also
 * re-emits it as its own 'error'. 'done' never comes after a failure: wait
 * for either (`events.once(session, 'done')` rejects on 'error').
 * Programming errors caught at a boundary are 'internal-error' events.
 */
export class TorrentSession extends EventEmitter<TorrentSessionEvents> {
  /** The torrent. */
  readonly meta: TorrentMetadata;
  /** Connected peers by `host:port`: read-only for callers (the session owns their state). */
  readonly peers = new Map<string, PeerState>();
  readonly #options: TorrentSessionOptions;
  readonly #book = new AddressBook();
  readonly #dialer: PeerDialer;
  readonly #localHandshake: Handshake;
  readonly #bandwidth: TorrentBandwidth;
  #downloader: Downloader | undefined;
  #uploader: Uploader | undefined;
  #cache: ReadCache | undefined;
  #handler: SessionPeerHandler | undefined;
  #assembler: PieceAssembler | undefined;
  #announcer: Announcer | undefined;
  #pex: PexExchange | undefined;
  /** Ends the one-second tick (the client's shared one, or the session's own timer). */
  #untick: (() => void) | undefined;
  /** Takes the first announce out of the client's queue (stopped before its turn). */
  #cancelAnnounce: (() => void) | undefined;
  #stopDht: (() => void) | undefined;
  #started = false;
  #stopped = false;
  /** The fatal error that ended the download, if one did. */
  #failure: Error | undefined;
  #done = false;
  /** Writes the resume record; set once the start-up check is over (no record of a half check). */
  #resume: ResumeKeeper | undefined;
  /** Upload and download totals of earlier sessions, from the resume record. */
  #earlier = { uploadedBytes: 0, downloadedBytes: 0 };
  /** The file selection (one choice per file) and sequential mode; see setFiles/setSequential. */
  #files: readonly FileChoice[];
  #sequential: boolean;
  /** Derived from `#files`, kept with it: bytes of the wanted files, and whether every file is wanted. */
  #wanted: { bytes: number; all: boolean };
  #picker: PiecePicker | undefined;
  /** The storage has been told the selection (start() did, after open): setFiles tells it too. */
  #storageSelects = false;

  constructor(options: TorrentSessionOptions) {
    super();
    this.meta = options.meta;
    this.#options = options;
    this.#bandwidth = new TorrentBandwidth(options.clientBandwidth, {
      download: options.downloadLimit,
      upload: options.uploadLimit,
    });
    if (options.files) checkFileChoices(options.meta, options.files);
    this.#files = options.files ? [...options.files] : allFilesWanted(options.meta);
    this.#wanted = wantedSummary(options.meta, this.#files);
    this.#sequential = options.sequential ?? false;
    this.#localHandshake = {
      reserved: reservedBits({
        extensionProtocol: true,
        fastExtension: FAST_EXTENSION,
        dht: options.dht !== undefined && !options.meta.private,
      }),
      infoHash: options.meta.infoHash,
      peerId: options.peerId,
    };
    const limit = () => this.#maxPeers;
    this.#dialer = new PeerDialer(
      {
        peers: this.peers,
        get maxPeers() {
          return limit();
        },
        wantsPeers: () =>
          this.#handler !== undefined && !this.#stopped && (!this.#done || !!this.#options.seed),
        stopped: () => this.#stopped,
        adopt: (connection) => {
          this.#attach(connection);
          connection.once('handshake', (remote) => {
            const peer = this.peers.get(connection.key);
            if (peer) this.#handler?.onHandshake(peer, remote);
          });
        },
        internalError: (error, peer) => this.#internalError(error, peer),
        dialFailed: (address, error) => {
          const { failure, message } = classifyDialError(error);
          this.emit('peer-dial-failed', { address, reason: failure, message });
        },
      },
      {
        book: this.#book,
        budget: options.dialBudget ?? new DialBudget(Date.now),
        localHandshake: this.#localHandshake,
        pieceCount: options.meta.pieceCount,
        encryption: options.encryption ?? 'prefer',
        ...(options.utp ? { utp: options.utp } : {}),
        ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
        ...(options.connectTimeoutMs !== undefined ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
        ...(options.handshakeTimeoutMs !== undefined
          ? { handshakeTimeoutMs: options.handshakeTimeoutMs }
          : {}),
      },
    );
  }

  /** The 20-byte v1 info-hash. */
  get infoHash(): Buffer {
    return this.meta.infoHash;
  }

  /**
   * Every wanted piece is verified on disk (every piece, when every file is wanted). Goes back
   * to false when `setFiles` wants more than what is verified; 'done' is emitted again when
   * that selection completes.
   */
  get done(): boolean {
    return this.#done;
  }

  /** The file selection: one choice per file of the torrent. */
  get files(): readonly FileChoice[] {
    return this.#files;
  }

  /** Pieces are picked in order (see setSequential). */
  get sequential(): boolean {
    return this.#sequential;
  }

  /**
   * Changes which files to download and their priorities, at once: the picker stops starting
   * pieces of unwanted files (started ones are finished) and starts newly wanted ones. A done
   * torrent with newly wanted pieces is no longer done (peers are asked again, 'done' comes again
   * when they are verified); a download whose missing pieces all became unwanted is done now.
   * Throws a LodestoneError (LODESTONE_ERR_USAGE) for a list that does not match the files.
   */
  setFiles(choices: readonly FileChoice[]): void {
    checkFileChoices(this.meta, choices);
    this.#files = choices.map((choice) => ({ wanted: choice.wanted, priority: choice.priority }));
    this.#wanted = wantedSummary(this.meta, this.#files);
    if (this.#storageSelects) {
      this.#options.storage
        .setFileSelection?.(this.#files.map((choice) => choice.wanted))
        .catch((error: unknown) => this.#fail(error));
    }
    if (!this.#picker) return; // start() reads the selection
    this.#picker.setPiecePriorities(
      piecePriorities(this.meta, this.#files),
      sequentialFirstPieces(this.meta, this.#files),
    );
    if (this.#picker.wantedMissingCount > 0) this.#done = false;
    this.#downloader?.selectionChanged();
  }

  /**
   * Sequential download on or off, at once for the pieces started next: in index order within
   * each priority, each wanted file's first and last piece first (see docs/file-selection.md).
   */
  setSequential(on: boolean): void {
    this.#sequential = on;
    this.#picker?.setSequential(on, sequentialFirstPieces(this.meta, this.#files));
  }

  /** Verified bytes of each file: the bytes of the file lying in verified pieces. */
  fileProgress(): number[] {
    return fileProgress(this.meta, this.have);
  }

  /**
   * The fatal failure (a full disk, a file that cannot be written) that stopped the download,
   * once there is one. It is also emitted as 'error', to listeners only: a session never emits
   * 'error' into the void, which would throw from an I/O callback and end the host process.
   */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The pieces we have, verified (all clear before `start()` has checked the files). */
  get have(): Bitfield {
    return this.#downloader?.have ?? new Bitfield(this.meta.pieceCount);
  }

  /**
   * Checks existing files (`checking`, then `ready`), then announces, dials and downloads;
   * resolves once the check is over. Calling it twice does nothing.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { meta, storage, hashPool } = this.#options;
    // The client lets a few torrents check at once (StartGate); the others wait their turn.
    const release = await this.#options.startGate?.acquire();
    if (this.#stopped) {
      // Stopped while waiting its turn: nothing opened, nothing to check.
      release?.();
      return;
    }
    const keeper = resumeKeeperFor(this.#options);
    let check: Awaited<ReturnType<typeof checkAtStart>>;
    try {
      await storage.open();
      // Before the check: pieces of unwanted files are read from where the storage keeps them.
      this.#storageSelects = true;
      await storage.setFileSelection?.(this.#files.map((choice) => choice.wanted));
      check = await checkAtStart(this.#options, storage, hashPool, keeper, (p) => this.emit('checking', p));
    } finally {
      release?.();
    }
    const have = check.have;
    if (this.#stopped) return;
    this.#resume = keeper;
    this.#earlier = { uploadedBytes: check.uploadedBytes, downloadedBytes: check.downloadedBytes };
    if (check.resume) {
      this.emit('resume', check.resume);
      if (check.resume.record === 'rejected')
        this.emit('resume-warning', { message: `${check.resume.reason}; checked every piece instead` });
    }
    // Empty files and symlinks of pieces already on disk: no write will make them.
    if (have.count > 0) await storage.createEntriesOf?.(have);
    const picker = new PiecePicker({
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.totalLength,
      random: Math.random,
      have,
      // Partial pieces live in RAM until verified: bound them by bytes, not count.
      maxPartialPieces: maxPartialPieces(this.#memoryBudget, meta.pieceLength),
      piecePriorities: piecePriorities(meta, this.#files),
      sequential: this.#sequential,
      sequentialFirst: sequentialFirstPieces(meta, this.#files),
    });
    this.#picker = picker;
    this.#assembler = new PieceAssembler(meta, storage, { spareBytes: pieceBufferBytes(this.#memoryBudget) });
    this.#downloader = new Downloader(meta, picker, this.#assembler, this.peers, {
      pendingWriteLimit: this.#memoryBudget / 2,
    });
    const budget = this.#options.readCacheBudget;
    const cache = new ReadCache(storage, meta, budget ? { budget } : {});
    this.#cache = cache;
    this.#uploader = new Uploader(meta, cache, () => picker.haveBitfield);
    this.#pex = this.#createPex();
    this.#handler = new SessionPeerHandler(this, this.#downloader, this.#uploader, {
      peerId: this.#options.peerId,
      port: this.#options.port,
      fastExtension: FAST_EXTENSION,
      pex: this.#pex,
      ...(this.#dht ? { dht: this.#dht } : {}),
      onInternalError: (error) => this.#internalError(error),
      ...(this.#options.uploadSlots !== undefined ? { uploadSlots: this.#options.uploadSlots } : {}),
    });
    this.#downloader.on('piece-verified', (index) => {
      this.#resume?.changed();
      // Saved at the first verified piece past the interval (and by the tick when pieces stop).
      if (this.#resume?.due() && !this.#resume.saving)
        this.#saveResume().catch((error: unknown) => this.#internalError(error));
      this.emit('piece-verified', { index });
    });
    this.#downloader.on('piece-failed', (index, peers) => this.emit('piece-failed', { index, peers }));
    this.#downloader.on('peer-banned', (key, reason) => this.ban(key, reason));
    this.#downloader.on('complete', () => this.#onComplete());
    this.#downloader.on('fatal', (error) => this.#fail(error));
    this.emit('ready', { verifiedPieces: have.count, piecesHashed: check.piecesHashed });
    if (this.#downloader.finished) {
      // Complete from the start: a seed, not a finished download, so no `completed` announce.
      this.#done = true;
      this.emit('done');
    }
    if (this.#stopped) return;

    for (const address of this.#options.peers ?? []) this.addPeer(address, 'manual');
    this.#startAnnouncer();
    this.#startDht();
    const onTick = this.#guard(() => this.#onTick());
    if (this.#options.ticker) this.#untick = this.#options.ticker.add(onTick);
    else {
      const timer = setInterval(onTick, 1000);
      timer.unref();
      this.#untick = () => clearInterval(timer);
    }
    this.#dialer.more();
  }

  /**
   * Adds a peer address to dial (it waits its turn if the session is full). `origin` says which
   * tracker or peer told us (e.g. the announce URL): the address book keeps each origin to a
   * fair share and interleaves origins when dialling, so one source cannot crowd out another.
   */
  addPeer(address: PeerAddress, source: PeerSource, origin?: string): void {
    if (this.#book.add(address, source, origin)) this.#dialer.soon();
  }

  /** An incoming connection whose handshake named this torrent (from the listener). */
  acceptIncoming(
    socket: Duplex,
    remote: Handshake,
    leftover: Uint8Array,
    address: PeerAddress,
    encryption: ConnectionEncryption = 'plain',
    transport: PeerTransport = 'tcp',
  ): void {
    const key = formatAddress(address);
    if (
      !this.#handler ||
      this.#stopped ||
      this.peers.size >= this.#maxPeers ||
      this.#book.isBanned(address.host)
    ) {
      socket.destroy();
      return;
    }
    if (this.peers.has(key)) {
      socket.destroy();
      return;
    }
    const connection = new PeerConnection({
      socket,
      address,
      direction: 'inbound',
      localHandshake: this.#localHandshake,
      remoteHandshake: remote,
      leftover,
      pieceCount: this.meta.pieceCount,
      encryption,
      transport,
    });
    this.#book.add(address, 'incoming');
    this.#attach(connection);
    this.#handler.onHandshake(this.peers.get(key)!, remote);
  }

  /**
   * Changes this torrent's rate limits live (bytes per second, 0 or undefined = unlimited; a key
   * left out keeps its value). `honorsClientLimits: false` exempts the torrent from the client's
   * limits. Throws a `LODESTONE_ERR_USAGE` error for a negative or non-finite rate.
   */
  setLimits(limits: TorrentRateLimits): void {
    this.#bandwidth.setLimits(limits);
  }

  /** A snapshot of the torrent's progress, rates and peers. */
  stats(): SessionStats {
    let downloadRate = 0;
    let uploadRate = 0;
    let seeds = 0;
    for (const peer of this.peers.values()) {
      downloadRate += peer.connection.download.rate();
      uploadRate += peer.connection.upload.rate();
      if (peer.isSeed) seeds++;
    }
    const verifiedBytes = this.#downloader?.verifiedBytes ?? 0;
    return {
      totalLength: this.meta.totalLength,
      verifiedBytes,
      downloadedBytes: this.#downloader?.downloadedBytes ?? 0,
      uploadedBytes: this.#uploader?.uploadedBytes ?? 0,
      wastedBytes: this.#downloader?.wastedBytes ?? 0,
      piecesVerified: this.have.count,
      pieceCount: this.meta.pieceCount,
      downloadRate,
      uploadRate,
      peers: this.peers.size,
      seeds,
      knownPeers: this.#book.size,
      pexLearned: this.#pex?.learnedTotal ?? 0,
      endgame: this.#downloader?.inEndgame ?? false,
      wantedBytes: this.#wanted.bytes,
      // With every file wanted (the usual case) that is every verified byte: no walk over the files.
      wantedVerifiedBytes: this.#wanted.all
        ? verifiedBytes
        : wantedVerifiedBytes(this.meta, this.#files, this.fileProgress()),
    };
  }

  ban(key: string, reason: string): void {
    const peer = this.peers.get(key);
    const host = peer?.connection.address.host ?? parseAddress(key)?.host;
    if (host === undefined) return;
    // Already banned and gone (several pieces can convict the same liar): nothing new to say.
    if (!peer && this.#book.isBanned(host)) return;
    this.#book.ban(host);
    this.emit('peer-banned', { address: key, reason });
    peer?.connection.close(`banned: ${reason}`);
  }

  /** Asks the trackers for peers as soon as their `min interval` allows (the daemon's reannounce). */
  reannounce(): void {
    this.#announcer?.announceNow();
  }

  /** Stops cleanly: tells trackers, closes peers, flushes and closes files. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#untick?.();
    this.#cancelAnnounce?.();
    this.#stopDht?.();
    this.#dialer.stop();
    this.#handler?.stop();
    this.#downloader?.stop();
    for (const peer of this.peers.values()) peer.connection.close('session stopped');
    await this.#announcer?.stop();
    this.#assembler?.clear();
    this.#cache?.close();
    await this.#options.storage.close();
    // Last, with every write done: the record of what this run verified.
    if (this.#resume) await this.#saveResume();
  }

  /** Writes the resume record now; a failure is a `resume-warning`, never a failure of the torrent. */
  async #saveResume(): Promise<void> {
    const keeper = this.#resume;
    if (!keeper) return;
    try {
      await keeper.save(() => ({
        have: this.have,
        uploadedBytes: this.#earlier.uploadedBytes + (this.#uploader?.uploadedBytes ?? 0),
        downloadedBytes: this.#earlier.downloadedBytes + (this.#downloader?.downloadedBytes ?? 0),
      }));
    } catch (error) {
      if (!(error instanceof LodestoneError)) this.#internalError(error);
      const message = error instanceof Error ? error.message : String(error);
      this.emit('resume-warning', { message: `could not write the resume record: ${message}` });
    }
  }

  /** The client's DHT, never for a private torrent (BEP 27). */
  get #dht(): SessionDht | undefined {
    return this.meta.private ? undefined : this.#options.dht;
  }

  /** BEP 5: lookups (and announces when we listen) now and on a schedule while we want peers. */
  #startDht(): void {
    const dht = this.#dht;
    if (!dht) return;
    this.#stopDht = dht.track(this.meta.infoHash, {
      announcePort: this.#options.port,
      wantsPeers: () => !this.#stopped && (!this.#done || !!this.#options.seed),
      seeding: () => this.#done,
      onPeers: (peers) => {
        const added = peers.filter((address) => this.#book.add(address, 'dht', 'dht'));
        if (added.length === 0) return;
        this.emit('peers-learned', { source: 'dht', from: 'dht', addresses: added.map(formatAddress) });
        this.#dialer.soon();
      },
    });
  }

  get #memoryBudget(): number {
    return this.#options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
  }

  /** Its own limit (else the per-torrent cap); with the client's budget, what the global cap allows now. */
  get #maxPeers(): number {
    const budget = this.#options.peerBudget;
    const own = Number.isFinite(this.#peerLimit) ? this.#peerLimit : undefined;
    if (budget) return budget.ceiling(this.peers.size, own);
    return own ?? this.#options.maxPeers ?? 50;
  }

  #peerLimit = Number.POSITIVE_INFINITY;

  /**
   * This torrent's own connection cap (the daemon's per-torrent `peer-limit`), in place of the
   * per-torrent cap (above or below it; the client's global cap still holds); `undefined` = the
   * per-torrent cap. Lowered below the peers connected now, the least
   * recently useful peers are closed down to it. Throws LODESTONE_ERR_USAGE unless an integer ≥ 1.
   */
  setPeerLimit(limit: number | undefined): void {
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
      throw new LodestoneError('LODESTONE_ERR_USAGE', `a peer limit must be an integer ≥ 1, not ${limit}`);
    this.#peerLimit = limit ?? Number.POSITIVE_INFINITY;
    const surplus = this.peers.size - this.#peerLimit;
    if (surplus <= 0) return;
    const lastUseful = (peer: PeerState) => Math.max(peer.connectedAt, peer.lastPieceAt);
    const ordered = [...this.peers.values()].sort((a, b) => lastUseful(a) - lastUseful(b));
    for (const peer of ordered.slice(0, surplus)) peer.connection.close("over the torrent's peer limit");
  }

  /** Whether more peers would be useful and addresses wait (the client's fair-share rule). */
  get wantsMorePeers(): boolean {
    return (
      this.#handler !== undefined &&
      !this.#stopped &&
      (!this.#done || !!this.#options.seed) &&
      this.peers.size < this.#peerLimit &&
      this.#book.size > this.peers.size + this.#dialer.dialing.size
    );
  }

  /** Closes this torrent's least useful peer to give its slot to a starved torrent (client budget). */
  yieldPeer(): boolean {
    let worst: PeerState | undefined;
    for (const peer of this.peers.values())
      if (
        !worst ||
        Math.max(peer.connectedAt, peer.lastPieceAt) < Math.max(worst.connectedAt, worst.lastPieceAt)
      )
        worst = peer;
    worst?.connection.close('gave its slot to a torrent below its fair share of the global peer limit');
    return worst !== undefined;
  }

  /** BEP 11: addresses peers tell us go to the book as `pex:<peer IP>`, dialled like the others. */
  #createPex(): PexExchange {
    return new PexExchange({
      peers: this.peers,
      private: this.meta.private,
      port: this.#options.port,
      bindAddress: this.#options.bindAddress,
      now: Date.now,
      learn: (address, origin) => {
        const added = this.#book.add(address, 'pex', origin);
        if (added) this.#dialer.soon();
        return added;
      },
      // A listener's throw is ours to report, not a strike against the peer whose message it was.
      learned: this.#guard((from: string, addresses: PeerAddress[]) =>
        this.emit('peers-learned', { source: 'pex', from, addresses: addresses.map(formatAddress) }),
      ),
    });
  }

  #startAnnouncer(): void {
    const tiers = this.#options.useTrackers === false ? [] : this.meta.announceTiers;
    if (tiers.length === 0) return;
    const announcer = new Announcer({
      tiers,
      infoHash: this.meta.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      stats: () => {
        const stats = this.stats();
        return {
          uploaded: stats.uploadedBytes,
          downloaded: stats.downloadedBytes,
          // As libtorrent and Transmission do: what is left of the wanted files.
          left: stats.wantedBytes - stats.wantedVerifiedBytes,
        };
      },
      ...(this.#options.createTrackerClient ? { createClient: this.#options.createTrackerClient } : {}),
      // Declared in the options but was never passed on (fault tests shorten the back-off).
      ...(this.#options.trackerRetryBaseMs !== undefined
        ? { retryBaseMs: this.#options.trackerRetryBaseMs }
        : {}),
    });
    // The announcer calls these from its own promise chains: a throw there would be unhandled.
    announcer.on(
      'peers',
      this.#guard((peers: PeerAddress[], url: string) => {
        for (const address of peers) this.addPeer(address, 'tracker', url);
      }),
    );
    announcer.on(
      'response',
      this.#guard(({ url, response }: { url: string; response: AnnounceResponse }) =>
        this.emit('tracker-response', { url, response }),
      ),
    );
    announcer.on(
      'announce-error',
      this.#guard(({ url, error }: { url: string; error: unknown }) =>
        this.emit('tracker-error', { url, message: error instanceof Error ? error.message : String(error) }),
      ),
    );
    announcer.on(
      'warning',
      this.#guard(({ url, message }: { url: string; message: string }) =>
        this.emit('tracker-warning', { url, message }),
      ),
    );
    this.#announcer = announcer;
    // The client spreads its torrents' first announces (AnnounceSpread); alone, at once.
    const spread = this.#options.announceSpread;
    if (spread) this.#cancelAnnounce = spread.schedule(this.#guard(() => announcer.start()));
    else announcer.start();
  }

  #attach(connection: PeerConnection): void {
    const peer = new PeerState(connection, this.meta.pieceCount);
    peer.maxRequests = 250;
    connection.on('internal-error', (error) => this.#internalError(error, connection.key));
    this.peers.set(connection.key, peer);
    this.#bandwidth.attach(connection);
    this.#options.peerBudget?.opened();
    this.#book.markConnected(connection.key);
    if (this.#options.trace) {
      connection.traced = true;
      connection.on('wire', (direction, message) =>
        this.emit('wire', { peer: connection.key, direction, message }),
      );
    }
    connection.on('message', (message) => this.#handler?.onMessage(peer, message));
    connection.once('close', (reason) => {
      this.peers.delete(connection.key);
      this.#options.peerBudget?.closed();
      this.#handler?.onClose(peer);
      const useful = peer.connection.download.total > 0 || peer.connection.upload.total > 0;
      this.#book.markDisconnected(connection.key, useful);
      this.emit('peer-disconnected', { address: connection.key, reason: reason ?? 'closed' });
      this.#dialer.more();
    });
  }

  #onTick(): void {
    if (this.#resume?.due() && !this.#resume.saving) this.#saveResume().catch((e) => this.#internalError(e));
    this.#downloader?.tick();
    this.#handler?.tick();
    this.#pex?.tick();
    this.#rotatePeers();
    this.#dialer.more();
  }

  /** Full, with untried addresses waiting: close useless peers to make room (see peersToRotate). */
  #rotatePeers(): void {
    if (this.#stopped || (this.#done && !this.#options.seed)) return;
    // Dials no longer take connection slots (DialBudget): rotate only when connections fill them.
    if (this.peers.size < this.#maxPeers) return;
    const skip = new Set([...this.peers.keys(), ...this.#dialer.dialing]);
    const keys = peersToRotate(
      {
        peers: [...this.peers.values()].map((peer) => ({
          key: peer.key,
          lastUsefulAt: Math.max(peer.connectedAt, peer.lastPieceAt),
          weAreInterested: peer.connection.amInterested,
          peerInterested: peer.connection.peerInterested,
          busy: peer.requests.size > 0 || peer.uploadQueue.length > 0 || peer.uploading,
        })),
        maxPeers: this.#maxPeers,
        dialing: 0,
        untried: this.#book.untried(skip),
      },
      Date.now(),
    );
    for (const key of keys)
      this.peers.get(key)?.connection.close('rotated out: useless while untried peers wait');
  }

  #onComplete(): void {
    if (this.#done) return;
    this.#done = true;
    this.#saveResume().catch((error: unknown) => this.#internalError(error));
    this.#announcer?.completed();
    this.emit('done');
  }

  /**
   * A fatal failure (the disk is full, a file cannot be written) ends the
   * download: requesting stops and 'error' is emitted once, for the first
   * failure. Writes already in flight meet the same full disk (a batch of
   * writes fails together); reporting each would only repeat it. Blocks
   * already requested still arrive (one pipeline per peer at most); the owner
   * stops the session. A failure that is not a LodestoneError (storage
   * throws StorageError) is a bug or a listener's throw: it is also reported as
   * an internal error, every time, so it cannot hide behind the first failure.
   */
  #fail(error: unknown): void {
    if (!(error instanceof LodestoneError)) this.#internalError(error);
    if (this.#failure) return;
    this.#failure =
      error instanceof Error
        ? error
        : new LodestoneError('LODESTONE_ERR_IO', `unexpected failure: ${String(error)}`);
    this.#downloader?.stop();
    if (this.listenerCount('error') > 0) this.emit('error', this.#failure);
    else warnUnheard('error', this.#failure, `torrent ${this.meta.name}`);
  }

  /** Reports a programming error caught at a boundary (see the 'internal-error' event). */
  #internalError(thrown: unknown, peer?: string): void {
    const error = asError(thrown);
    if (this.listenerCount('internal-error') > 0)
      this.emit('internal-error', { error, ...(peer !== undefined ? { peer } : {}) });
    else warnUnheard('internal-error', error, `torrent ${this.meta.name}${peer ? `, peer ${peer}` : ''}`);
    rethrowIfStrict(error);
  }

  /** `fn`, with what it throws reported as an internal error instead of thrown into its caller. */
  #guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        fn(...args);
      } catch (error) {
        this.#internalError(error);
      }
    };
  }
}
