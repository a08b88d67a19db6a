import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { PeerAddress } from '../address.js';
import { Bitfield } from '../bitfield.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { ConnectionEncryption } from '../net/mse/policy.js';
import type { PeerTransport } from '../peer/dial-transport.js';
import type { ReadCache } from '../storage/read-cache.js';
import { reservedBits } from '../wire/index.js';
import type { Handshake } from '../wire/types.js';
import type { PeerSource } from './address-book.js';
import { TorrentBandwidth, type TorrentRateLimits } from './bandwidth-limits.js';
import type { Downloader } from './downloader.js';
import { type FileChoice, fileProgress } from './file-selection.js';
import { DEFAULT_MEMORY_BUDGET } from './memory-bounds.js';
import type { PeerState } from './peer-state.js';
import type { PieceAssembler } from './piece-assembler.js';
import { checkAtStart } from './resume-check.js';
import { resumeKeeperFor } from './resume-keeper.js';
import { SessionPeerHandler } from './session-peer-handler.js';
import { TorrentConnections } from './torrent-connections.js';
import { TorrentDiscovery } from './torrent-discovery.js';
import { TorrentFaults } from './torrent-faults.js';
import { TorrentResume } from './torrent-resume.js';
import { TorrentSelection } from './torrent-selection.js';
import { torrentStats } from './torrent-stats.js';
import { createTransfer } from './torrent-transfer.js';
import type { Uploader } from './uploader.js';

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
  /** The address book and what feeds it: trackers, DHT, PEX. */
  readonly #discovery: TorrentDiscovery;
  /** Dialling, accepting and attaching peers, and the slots they take. */
  readonly #connections: TorrentConnections;
  readonly #bandwidth: TorrentBandwidth;
  /** The fatal failure, internal errors, and the guard around callbacks. */
  readonly #faults: TorrentFaults;
  #downloader: Downloader | undefined;
  #uploader: Uploader | undefined;
  #cache: ReadCache | undefined;
  #handler: SessionPeerHandler | undefined;
  #assembler: PieceAssembler | undefined;
  /** Ends the one-second tick (the client's shared one, or the session's own timer). */
  #untick: (() => void) | undefined;
  #started = false;
  #stopped = false;
  #done = false;
  /** Writes the resume record (once the start-up check is over). */
  readonly #resume: TorrentResume;
  /** The file selection and sequential mode; see setFiles/setSequential. */
  readonly #selection: TorrentSelection;

  constructor(options: TorrentSessionOptions) {
    super();
    this.meta = options.meta;
    this.#options = options;
    this.#faults = new TorrentFaults(this, `torrent ${options.meta.name}`, () => this.#downloader?.stop());
    this.#bandwidth = new TorrentBandwidth(options.clientBandwidth, {
      download: options.downloadLimit,
      upload: options.uploadLimit,
    });
    this.#selection = new TorrentSelection(options.meta, options.files, options.sequential);
    this.#resume = new TorrentResume(
      this,
      () => ({
        have: this.have,
        uploadedBytes: this.#uploader?.uploadedBytes ?? 0,
        downloadedBytes: this.#downloader?.downloadedBytes ?? 0,
      }),
      (error) => this.#faults.internalError(error),
    );
    const localHandshake: Handshake = {
      reserved: reservedBits({
        extensionProtocol: true,
        fastExtension: FAST_EXTENSION,
        dht: options.dht !== undefined && !options.meta.private,
      }),
      infoHash: options.meta.infoHash,
      peerId: options.peerId,
    };
    const wantsPeers = () => !this.#stopped && (!this.#done || !!this.#options.seed);
    this.#discovery = new TorrentDiscovery({
      meta: options.meta,
      options,
      peers: this.peers,
      events: this,
      guard: (fn) => this.#faults.guard(fn),
      dialSoon: () => this.#connections.soon(),
      wantsPeers,
      seeding: () => this.#done,
      stats: () => this.stats(),
    });
    this.#connections = new TorrentConnections({
      meta: options.meta,
      options,
      peers: this.peers,
      book: this.#discovery.book,
      localHandshake,
      bandwidth: this.#bandwidth,
      faults: this.#faults,
      events: this,
      handler: () => this.#handler,
      wantsPeers: () => this.#handler !== undefined && wantsPeers(),
      stopped: () => this.#stopped,
    });
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
    return this.#selection.files;
  }

  /** Pieces are picked in order (see setSequential). */
  get sequential(): boolean {
    return this.#selection.sequential;
  }

  /**
   * Changes which files to download and their priorities, at once: the picker stops starting
   * pieces of unwanted files (started ones are finished) and starts newly wanted ones. A done
   * torrent with newly wanted pieces is no longer done (peers are asked again, 'done' comes again
   * when they are verified); a download whose missing pieces all became unwanted is done now.
   * Throws a LodestoneError (LODESTONE_ERR_USAGE) for a list that does not match the files.
   */
  setFiles(choices: readonly FileChoice[]): void {
    const picker = this.#selection.set(choices, (error) => this.#faults.fail(error));
    if (!picker) return; // start() reads the selection
    if (picker.wantedMissingCount > 0) this.#done = false;
    this.#downloader?.selectionChanged();
  }

  /**
   * Sequential download on or off, at once for the pieces started next: in index order within
   * each priority, each wanted file's first and last piece first (see docs/file-selection.md).
   */
  setSequential(on: boolean): void {
    this.#selection.setSequential(on);
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
    return this.#faults.failure;
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
      await this.#selection.tellStorage(storage);
      check = await checkAtStart(this.#options, storage, hashPool, keeper, (p) => this.emit('checking', p));
    } finally {
      release?.();
    }
    const have = check.have;
    if (this.#stopped) return;
    this.#resume.begin(keeper, {
      uploadedBytes: check.uploadedBytes,
      downloadedBytes: check.downloadedBytes,
    });
    if (check.resume) {
      this.emit('resume', check.resume);
      if (check.resume.record === 'rejected')
        this.emit('resume-warning', { message: `${check.resume.reason}; checked every piece instead` });
    }
    // Empty files and symlinks of pieces already on disk: no write will make them.
    if (have.count > 0) await storage.createEntriesOf?.(have);
    const transfer = createTransfer({
      meta,
      storage,
      have,
      files: this.#selection.files,
      sequential: this.#selection.sequential,
      memoryBudget: this.#options.memoryBudget ?? DEFAULT_MEMORY_BUDGET,
      readCacheBudget: this.#options.readCacheBudget,
      peers: this.peers,
    });
    this.#selection.steer(transfer.picker);
    this.#assembler = transfer.assembler;
    this.#downloader = transfer.downloader;
    this.#cache = transfer.cache;
    this.#uploader = transfer.uploader;
    const dht = this.#discovery.dht;
    this.#handler = new SessionPeerHandler(this, this.#downloader, this.#uploader, {
      peerId: this.#options.peerId,
      port: this.#options.port,
      fastExtension: FAST_EXTENSION,
      pex: this.#discovery.createPex(),
      ...(dht ? { dht } : {}),
      onInternalError: (error) => this.#faults.internalError(error),
      ...(this.#options.uploadSlots !== undefined ? { uploadSlots: this.#options.uploadSlots } : {}),
    });
    this.#downloader.on('piece-verified', (index) => {
      this.#resume.changed();
      // Saved at the first verified piece past the interval (and by the tick when pieces stop).
      this.#resume.saveIfDue();
      this.emit('piece-verified', { index });
    });
    this.#downloader.on('piece-failed', (index, peers) => this.emit('piece-failed', { index, peers }));
    this.#downloader.on('peer-banned', (key, reason) => this.ban(key, reason));
    this.#downloader.on('complete', () => this.#onComplete());
    this.#downloader.on('fatal', (error) => this.#faults.fail(error));
    this.emit('ready', { verifiedPieces: have.count, piecesHashed: check.piecesHashed });
    if (this.#downloader.finished) {
      // Complete from the start: a seed, not a finished download, so no `completed` announce.
      this.#done = true;
      this.emit('done');
    }
    if (this.#stopped) return;

    for (const address of this.#options.peers ?? []) this.addPeer(address, 'manual');
    this.#discovery.start();
    const onTick = this.#faults.guard(() => this.#onTick());
    if (this.#options.ticker) this.#untick = this.#options.ticker.add(onTick);
    else {
      const timer = setInterval(onTick, 1000);
      timer.unref();
      this.#untick = () => clearInterval(timer);
    }
    this.#connections.more();
  }

  /**
   * Adds a peer address to dial (it waits its turn if the session is full). `origin` says which
   * tracker or peer told us (e.g. the announce URL): the address book keeps each origin to a
   * fair share and interleaves origins when dialling, so one source cannot crowd out another.
   */
  addPeer(address: PeerAddress, source: PeerSource, origin?: string): void {
    this.#discovery.add(address, source, origin);
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
    this.#connections.accept(socket, remote, leftover, address, encryption, transport);
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
    return torrentStats({
      meta: this.meta,
      peers: this.peers,
      downloader: this.#downloader,
      uploader: this.#uploader,
      piecesVerified: this.have.count,
      knownPeers: this.#discovery.book.size,
      pexLearned: this.#discovery.pex?.learnedTotal ?? 0,
      wanted: this.#selection.wanted,
      files: this.#selection.files,
      fileProgress: () => this.fileProgress(),
    });
  }

  /** Bans a peer's host (a liar, say): its connection closes and its address is never dialled again. */
  ban(key: string, reason: string): void {
    this.#connections.ban(key, reason);
  }

  /** Asks the trackers for peers as soon as their `min interval` allows (the daemon's reannounce). */
  reannounce(): void {
    this.#discovery.reannounce();
  }

  /** Stops cleanly: tells trackers, closes peers, flushes and closes files. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#untick?.();
    this.#discovery.halt();
    this.#connections.stopDialing();
    this.#handler?.stop();
    this.#downloader?.stop();
    for (const peer of this.peers.values()) peer.connection.close('session stopped');
    await this.#discovery.stopAnnouncer();
    this.#assembler?.clear();
    this.#cache?.close();
    await this.#options.storage.close();
    // Last, with every write done: the record of what this run verified.
    await this.#resume.save();
  }

  /**
   * This torrent's own connection cap (the daemon's per-torrent `peer-limit`), in place of the
   * per-torrent cap (above or below it; the client's global cap still holds); `undefined` = the
   * per-torrent cap. Lowered below the peers connected now, the least
   * recently useful peers are closed down to it. Throws LODESTONE_ERR_USAGE unless an integer ≥ 1.
   */
  setPeerLimit(limit: number | undefined): void {
    this.#connections.setLimit(limit);
  }

  /** Whether more peers would be useful and addresses wait (the client's fair-share rule). */
  get wantsMorePeers(): boolean {
    return this.#connections.wantsMore;
  }

  /** Closes this torrent's least useful peer to give its slot to a starved torrent (client budget). */
  yieldPeer(): boolean {
    return this.#connections.yieldOne();
  }

  #onTick(): void {
    this.#resume.saveIfDue();
    this.#downloader?.tick();
    this.#handler?.tick();
    this.#discovery.pex?.tick();
    // Full, with untried addresses waiting: close useless peers to make room.
    if (!this.#stopped && (!this.#done || this.#options.seed)) this.#connections.rotate();
    this.#connections.more();
  }

  #onComplete(): void {
    if (this.#done) return;
    this.#done = true;
    this.#resume.save().catch((error: unknown) => this.#faults.internalError(error));
    this.#discovery.completed();
    this.emit('done');
  }
}
