import { EventEmitter } from 'node:events';
import { Bitfield } from '../bitfield.js';
import { bytesInPieces } from '../metainfo/piece-map.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { PiecePicker } from '../policy/piece-picker.js';
import { BLOCK_SIZE } from '../wire/types.js';
import { HashBlame } from './hash-blame.js';
import { BlockKeys, type PeerState, requestedBlockLength } from './peer-state.js';
import type { PieceAssembler } from './piece-assembler.js';

export interface DownloaderOptions {
  /** Stop requesting while this many bytes wait for hashing or disk. @default 8 MiB */
  pendingWriteLimit?: number;
  /** A request unanswered this long is given to another peer. @default 30000 */
  requestTimeoutMs?: number;
  /** A peer that sent no block for this long while we wanted some is snubbed. @default 60000 */
  snubTimeoutMs?: number;
  /** Pieces failing their hash check that one peer alone may send before it is banned. @default 3 */
  maxHashFailures?: number;
  /** Milliseconds, the clock of every timeout here (PeerStates take the same). @default Date.now */
  now?: () => number;
}

export interface DownloaderEvents {
  'piece-verified': [index: number];
  'piece-failed': [index: number, contributors: string[]];
  'peer-banned': [key: string, reason: string];
  complete: [];
  fatal: [error: unknown];
}

const MIN_QUEUE = 8;
/**
 * libtorrent's trust points, for pieces several peers filled: each verified
 * piece earns its contributors a point (up to TRUST_CAP), each failed one
 * costs them TRUST_FAILURE_COST. A contributor at TRUST_BAN_AT or below that
 * is less trusted than another contributor of the same failed piece is
 * banned: it ends the loop where a fast liar's blocks make a shared piece
 * fail again and again, without banning a peer we cannot tell apart.
 */
const TRUST_CAP = 8;
const TRUST_FAILURE_COST = 2;
const TRUST_BAN_AT = -7;
/** Blocks a pipeline may fall below its depth before it is topped up. */
const REFILL_BATCH = 16;
const MAX_QUEUE = 500;
/** Requests in flight cover this much time of the peer's current rate (bandwidth-delay product). */
const QUEUE_SECONDS = 1.5;

/**
 * The download half of the session: tracks what each peer has, keeps each
 * unchoked peer's request pipeline full, and turns received blocks into
 * verified pieces. Mechanism around the policy of the PiecePicker.
 */
export class Downloader extends EventEmitter<DownloaderEvents> {
  readonly #meta: TorrentMetadata;
  readonly #picker: PiecePicker;
  readonly #assembler: PieceAssembler;
  readonly #peers: ReadonlyMap<string, PeerState>;
  readonly #pendingWriteLimit: number;
  readonly #requestTimeoutMs: number;
  readonly #snubTimeoutMs: number;
  readonly #maxHashFailures: number;
  readonly #now: () => number;
  /** Request times are kept relative to this, so they stay small integers. */
  readonly #epoch: number;
  readonly #keys: BlockKeys;
  readonly #verifying = new Set<number>();
  readonly #blame = new HashBlame();
  /**
   * Peers whose last fill got fewer requests than their pipeline wanted (the picker had nothing
   * more, or the disk was behind): a verified piece refills these only, not every peer, so a
   * piece costs O(hungry peers) rather than O(peers). Every other peer refills on its next block.
   */
  readonly #hungry = new Set<PeerState>();
  /**
   * Connected peers that are not seeds (peerAdded, then their bitfield and haves keep it true):
   * the ones a verified piece concerns. A seed needs no `have` and wants for nothing until we are
   * complete, so a piece costs O(peers that are not seeds), not O(peers):
   * with 200 seeds the per-piece walk over every peer was the one O(peers) loop per piece left.
   */
  readonly #notSeeds = new Set<PeerState>();
  /** Blocks of the picker's partial-piece budget: every request in flight holds one. */
  readonly #budgetBlocks: number;
  /** Sum of every peer's download rate, updated by tick(). */
  #totalRate = 0;
  #downloadedBytes = 0;
  #wastedBytes = 0;
  #finished = false;
  #stopped = false;

  constructor(
    meta: TorrentMetadata,
    picker: PiecePicker,
    assembler: PieceAssembler,
    peers: ReadonlyMap<string, PeerState>,
    options: DownloaderOptions = {},
  ) {
    super();
    this.#meta = meta;
    this.#picker = picker;
    this.#assembler = assembler;
    this.#peers = peers;
    this.#pendingWriteLimit = options.pendingWriteLimit ?? 8 * 1024 * 1024;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#snubTimeoutMs = options.snubTimeoutMs ?? 60_000;
    this.#maxHashFailures = options.maxHashFailures ?? 3;
    this.#now = options.now ?? Date.now;
    this.#epoch = this.#now();
    this.#keys = new BlockKeys(meta);
    this.#budgetBlocks = picker.maxPartialPieces * Math.ceil(meta.pieceLength / BLOCK_SIZE);
    this.#finished = picker.wantedMissingCount === 0;
    for (const peer of peers.values()) this.peerAdded(peer);
  }

  /**
   * A peer joined (its handshake is done; it was sent our bitfield): from now on it hears of
   * every piece we verify that it lacks. A peer in the map that was never added, and sent no
   * bitfield or have, hears of none.
   */
  peerAdded(peer: PeerState): void {
    if (peer.has.complete) this.#notSeeds.delete(peer);
    else this.#notSeeds.add(peer);
  }

  /**
   * The picker's piece priorities changed (file selection): a finished download with newly
   * wanted pieces is unfinished again (interest and requests resume, and 'complete' comes
   * again when they are verified); one whose remaining pieces all became unwanted is complete
   * now. Returns whether 'complete' was emitted.
   */
  selectionChanged(): boolean {
    if (this.#stopped) return false;
    const complete = this.#picker.wantedMissingCount === 0 && this.#verifying.size === 0;
    const completedNow = complete && !this.#finished;
    this.#finished = complete;
    // Interest follows the wanted pieces: recount what each peer has that we still want.
    for (const peer of this.#peers.values()) {
      peer.usefulPieces = this.#usefulIn(peer.has);
      this.#updateInterest(peer);
    }
    if (completedNow) this.emit('complete');
    else if (!complete) for (const peer of this.#peers.values()) this.fill(peer);
    return completedNow;
  }

  /** Pieces of `bits` we miss and want (priority above 0). O(pieces), once per bitfield; O(1) for a seed's. */
  #usefulIn(bits: Bitfield): number {
    if (bits.complete) return this.#picker.wantedMissingCount;
    const have = this.#picker.haveBitfield;
    let useful = 0;
    for (let i = 0; i < bits.size; i++) {
      if (bits.has(i) && !have.has(i) && this.#picker.priorityOf(i) > 0) useful++;
    }
    return useful;
  }

  get have(): Bitfield {
    return this.#picker.haveBitfield;
  }

  get downloadedBytes(): number {
    return this.#downloadedBytes;
  }

  get wastedBytes(): number {
    return this.#wastedBytes;
  }

  get finished(): boolean {
    return this.#finished;
  }

  get inEndgame(): boolean {
    return this.#picker.inEndgame;
  }

  /** Bytes of verified pieces. */
  get verifiedBytes(): number {
    return bytesInPieces(this.#meta, this.#picker.haveBitfield);
  }

  onBitfield(peer: PeerState, bits: Bitfield): void {
    this.#picker.removePeerBitfield(peer.has);
    peer.has = bits;
    this.#picker.addPeerBitfield(bits);
    peer.usefulPieces = this.#usefulIn(bits);
    this.peerAdded(peer);
    this.#updateInterest(peer);
  }

  onHave(peer: PeerState, index: number): void {
    if (!peer.has.set(index)) return;
    if (peer.has.complete) this.#notSeeds.delete(peer);
    this.#picker.addPeerHave(index);
    if (!this.#picker.haveBitfield.has(index) && this.#picker.priorityOf(index) > 0) {
      peer.usefulPieces++;
      this.#updateInterest(peer);
    }
  }

  onChoke(peer: PeerState): void {
    // Without the fast extension a choke discards every request we had queued there. With it
    // (BEP 6) they stand: the peer answers each with its block or a reject (or the request
    // times out), so they are released one by one, never twice.
    if (!peer.fast) this.#releaseRequests(peer);
  }

  /**
   * The peer refused one of our outstanding requests (BEP 6 reject; the handler checked that it
   * was outstanding): the block goes back to the picker at once, for another peer or this one
   * later, rather than waiting for the request timeout. Nobody is refilled here (a burst of
   * rejects after a choke would be a refill of every peer per reject, and refilling this peer
   * would ask a refusing peer again at once): every other peer's next block, or the next tick,
   * picks the block up.
   */
  onReject(peer: PeerState, index: number, begin: number): void {
    if (!peer.requests.delete(this.#keys.of(index, begin))) return;
    this.#picker.requestCancelled(index, begin, peer.key);
  }

  onUnchoke(peer: PeerState): void {
    this.fill(peer);
  }

  /** A block the peer handler matched to one of our outstanding requests (right length). */
  onPiece(peer: PeerState, index: number, begin: number, block: Uint8Array): void {
    peer.requests.delete(this.#keys.of(index, begin));
    peer.lastPieceAt = this.#now();
    peer.snubbed = false;
    const result = this.#picker.blockReceived(index, begin, peer.key);
    if (result.duplicate) {
      this.#wastedBytes += block.length;
    } else {
      this.#downloadedBytes += block.length;
      if (this.#blame.blockReceived(peer.key, index, begin, block)) {
        this.emit('peer-banned', peer.key, 'sent two different versions of the same block');
      }
      this.#assembler.addBlock(index, begin, block, peer.key);
      const others = result.otherRequesters;
      for (let i = 0; i < others.length; i++) this.#cancelAt(others[i]!, index, begin, block.length);
      // A verification that throws (a bug, or a listener's throw) stops the download like a disk
      // failure would, rather than becoming an unhandled rejection that ends the host process.
      if (result.pieceComplete) this.#verify(index).catch((error: unknown) => this.emit('fatal', error));
    }
    this.fill(peer);
  }

  /** A block we had not (or no longer) requested: harmless after an endgame cancel, counted as waste. */
  onUnrequestedBlock(length: number): void {
    this.#wastedBytes += length;
  }

  peerGone(peer: PeerState): void {
    this.#hungry.delete(peer);
    this.#notSeeds.delete(peer);
    this.#releaseRequests(peer);
    this.#picker.removePeerBitfield(peer.has);
    this.#picker.peerGone(peer.key);
  }

  /** Keeps the peer's pipeline at its target depth, if it is worth asking. */
  fill(peer: PeerState): void {
    const connection = peer.connection;
    this.#hungry.delete(peer);
    if (this.#stopped || this.#finished || connection.closed || !connection.amInterested) return;
    // A peer that chokes us still serves its allowed-fast pieces (BEP 6).
    const has = connection.peerChoking ? this.#allowedFastOf(peer) : peer.has;
    if (has === undefined) return;
    if (this.#assembler.pendingBytes >= this.#pendingWriteLimit) {
      this.#hungry.add(peer); // disk is behind: let it catch up
      return;
    }
    const depth = this.#queueDepth(peer);
    const want = depth - peer.requests.size;
    // Refill in batches: one pick and one socket write per batch, not per received block.
    // A deep pipeline refills once a quarter of it is answered (a quarter of 1.5 s of
    // transfer is far more than a round trip), so a fast peer costs ~4 writes per depth.
    const batch = Math.max(Math.min(REFILL_BATCH, depth >> 1), depth >> 2);
    if (want <= 0 || (peer.requests.size > 0 && want < batch)) return;
    const picks = this.#picker.pick({ id: peer.key, has }, want);
    if (picks.length < want) this.#hungry.add(peer);
    if (picks.length === 0) return;
    const now = this.#now();
    // An idle pipeline starts the snub clock afresh: a peer is snubbed for not answering us,
    // not for the time before we asked (choked, or nothing it had that we wanted).
    if (peer.requests.size === 0) peer.lastPieceAt = Math.max(peer.lastPieceAt, now);
    const sentAt = now - this.#epoch;
    for (const pick of picks) peer.requests.set(this.#keys.of(pick.index, pick.begin), sentAt);
    connection.sendRequests(picks);
  }

  /** Called once a second: time out slow requests and refill every pipeline. */
  tick(): void {
    const now = this.#now();
    let totalRate = 0;
    for (const peer of this.#peers.values()) totalRate += peer.connection.download.rate();
    this.#totalRate = totalRate;
    for (const peer of this.#peers.values()) {
      if (peer.requests.size > 0 && now - peer.lastPieceAt > this.#snubTimeoutMs) peer.snubbed = true;
      let timedOut = false;
      const limit = this.#picker.inEndgame ? this.#requestTimeoutMs / 3 : this.#requestTimeoutMs;
      peer.requests.forEach((sentAt, key) => {
        if (now - this.#epoch - sentAt <= limit) return;
        const index = this.#keys.indexOf(key);
        const begin = this.#keys.beginOf(key);
        peer.requests.delete(key);
        this.#picker.requestCancelled(index, begin, peer.key);
        const length = requestedBlockLength(this.#meta, index, begin);
        peer.connection.send({ type: 'cancel', index, begin, length });
        timedOut = true;
      });
      if (timedOut) peer.snubbed = true;
    }
    for (const peer of this.#peers.values()) this.fill(peer);
  }

  stop(): void {
    this.#stopped = true;
  }

  #blameFailure(contributors: readonly string[]): void {
    const peers = contributors.flatMap((key) => this.#peers.get(key) ?? []);
    // Only a piece from one peer proves who lied; a mixed one starts the watch (smart ban).
    if (contributors.length === 1) {
      const [only] = peers;
      if (only && ++only.hashFailures >= this.#maxHashFailures) {
        this.emit('peer-banned', only.key, `sent ${only.hashFailures} pieces that failed the hash check`);
      }
      return;
    }
    for (const peer of peers) peer.trust -= TRUST_FAILURE_COST;
    const mostTrusted = Math.max(...peers.map((peer) => peer.trust));
    for (const peer of peers) {
      if (peer.trust <= TRUST_BAN_AT && peer.trust < mostTrusted) {
        this.emit('peer-banned', peer.key, 'contributed to far more failed pieces than verified ones');
      }
    }
  }

  /**
   * Requests to keep in flight with `peer`: 1.5 s of its rate, but never more
   * than its share of the partial-piece budget by rate. Every block in flight
   * holds a slot of that budget until it arrives, so a peer that is slow but
   * not slow enough to be snubbed (Transmission serves ~10 MiB/s on loopback:
   * 1.5 s of that is 500 blocks) would otherwise hold most of the budget for a
   * second at a time while faster seeders waited with nothing to do: on
   * aria2 + qBittorrent + Transmission, Transmission held 384 of 512 slots
   * and sent 7% of a 4 GiB download while qBittorrent sat at 0 in flight.
   */
  #queueDepth(peer: PeerState): number {
    if (peer.snubbed) return 1;
    const rate = peer.connection.download.rate();
    const depth = Math.ceil((rate * QUEUE_SECONDS) / BLOCK_SIZE);
    const share = Math.floor((this.#budgetBlocks * rate) / Math.max(this.#totalRate, rate, 1));
    return Math.max(MIN_QUEUE, Math.min(depth + MIN_QUEUE, share, MAX_QUEUE, peer.maxRequests));
  }

  /** The pieces a choking peer allows us and has, or undefined when there are none. */
  #allowedFastOf(peer: PeerState): Bitfield | undefined {
    if (!peer.fast || peer.allowedFastIn.size === 0) return undefined;
    let allowed: Bitfield | undefined;
    for (const index of peer.allowedFastIn) {
      if (!peer.has.has(index) || this.#picker.haveBitfield.has(index)) continue;
      allowed ??= new Bitfield(this.#meta.pieceCount);
      allowed.set(index);
    }
    return allowed;
  }

  #updateInterest(peer: PeerState): void {
    const want = peer.usefulPieces > 0 && !this.#finished;
    if (want && !peer.connection.amInterested) peer.connection.send({ type: 'interested' });
    else if (!want && peer.connection.amInterested) peer.connection.send({ type: 'not-interested' });
  }

  #releaseRequests(peer: PeerState): void {
    peer.requests.forEach((_sentAt, key) => {
      this.#picker.requestCancelled(this.#keys.indexOf(key), this.#keys.beginOf(key), peer.key);
    });
    peer.requests.clear();
  }

  #cancelAt(peerKey: string, index: number, begin: number, length: number): void {
    const other = this.#peers.get(peerKey);
    if (!other) return;
    if (other.requests.delete(this.#keys.of(index, begin))) {
      other.connection.send({ type: 'cancel', index, begin, length });
    }
  }

  async #verify(index: number): Promise<void> {
    this.#verifying.add(index);
    const outcome = await this.#assembler.verify(index, (data) => {
      // A piece that failed before has passed: whoever sent a differing block lied.
      for (const key of this.#blame.pieceVerified(index, data)) {
        this.emit('peer-banned', key, 'sent a block that differs from the verified piece');
      }
    });
    this.#verifying.delete(index);
    if (this.#stopped) return;
    if (outcome.valid === true) {
      this.#picker.pieceVerified(index);
      for (const key of outcome.contributors) {
        const peer = this.#peers.get(key);
        if (peer) peer.trust = Math.min(TRUST_CAP, peer.trust + 1);
      }
      // Counted only while wanted (counts are redone on every selection change). Seeds are not
      // visited: they get no `have`, and their count stays above 0 until completion, when the
      // interest of every peer is dropped below (a seed has every piece we still want).
      const wanted = this.#picker.priorityOf(index) > 0;
      for (const peer of this.#notSeeds) {
        if (!peer.has.has(index)) {
          // BEP 3's `have` is advisory: a peer that has the piece learns nothing from it, so it
          // gets none (libtorrent's default, without send_redundant_have). With 200 seeds this
          // was a socket write per peer per piece. A peer that connects later gets our bitfield.
          peer.connection.send({ type: 'have', index });
        } else if (wanted) {
          peer.usefulPieces--;
          if (peer.usefulPieces === 0) this.#updateInterest(peer);
        }
      }
      this.emit('piece-verified', index);
      if (!this.#finished && this.#picker.wantedMissingCount === 0 && this.#verifying.size === 0) {
        this.#finished = true;
        for (const peer of this.#peers.values()) this.#updateInterest(peer);
        this.emit('complete');
      }
      // The piece freed a partial-piece slot and disk room: only peers that were left wanting
      // can use them now. fill re-adds a peer that is still short, at the end of the set, so
      // only the peers hungry now are visited (counted, not copied: with 200 hungry seeds a copy
      // per piece was 200 entries of garbage, mostly for nothing once the picker is exhausted).
      let waiting = this.#hungry.size;
      for (const peer of this.#hungry) {
        // Nothing left for anyone (the picker's budget is taken): the rest stay hungry. With
        // 200 budget-starved seeds this is what keeps a piece from costing 200 fills.
        if (waiting-- === 0 || this.#picker.exhausted) break;
        if (this.#peers.get(peer.key) === peer) this.fill(peer);
        else this.#hungry.delete(peer);
      }
      return;
    } else if (outcome.valid === false) {
      this.#picker.pieceFailed(index);
      const contributors = [...outcome.contributors];
      this.emit('piece-failed', index, contributors);
      this.#blame.pieceFailed(index);
      this.#blameFailure(contributors);
    } else {
      this.#picker.pieceFailed(index);
      this.emit('fatal', outcome.error);
    }
    for (const peer of this.#peers.values()) this.fill(peer);
  }
}
