import { Bitfield } from '../bitfield.js';
import { NumberMap } from '../number-map.js';
import { BlockState, everyRequestSaturated, PartialPiece, startedPiecesOf } from './partial-piece.js';
import {
  ACCEPTED,
  type BlockReceipt,
  type BlockRequest,
  COMPLETED,
  DUPLICATE,
  HIGHEST,
  NORMAL,
  type PickerPeer,
  type PiecePickerOptions,
  type PiecePriority,
} from './piece-picker-types.js';
import { PieceRarity } from './piece-rarity.js';

export type { BlockReceipt, BlockRequest, PickerPeer, PiecePickerOptions, PiecePriority };

/**
 * Decides which blocks to request from which peer. Pure policy: no sockets,
 * no timers; the only randomness comes from the injected `random`.
 *
 * Order of preference for a peer: (a) unrequested blocks of partial pieces
 * the peer has, most advanced first; (b) a new piece, random while we have
 * fewer than `randomFirstPieces` (to get something to trade quickly), then
 * rarest first with random tie-breaking; (c) in endgame, when no block is
 * left unrequested, blocks already requested from other peers.
 *
 * Complexity: availability changes are O(1) per piece (RarityOrder), so a
 * bitfield costs O(pieces) once and a have O(1). pick() touches the partial
 * pieces (at most `maxPartialPieces`, sorted: O(P log P)) and, for a new
 * piece, scans the rarest non-empty bucket from a random start until it hits
 * a piece the peer has: O(1) expected when the peer has a fair share of the
 * rare pieces, O(pieces) only for a peer that has almost none of them.
 * Nothing is ever re-sorted as a whole.
 *
 * File selection: each piece has a priority (0 unwanted … 3 high). Every
 * priority class has its own RarityOrder (sharing one availability array),
 * so a new piece comes from the highest class that has one the peer has:
 * unwanted pieces are in no order and are never started. Endgame and
 * completion ({@link wantedMissingCount}) count wanted pieces only. A piece
 * that becomes unwanted while started is finished (its blocks are in RAM).
 * Sequential mode takes, per class, the `sequentialFirst` pieces and then the
 * rest in index order from a cursor below which every piece is had or
 * unwanted (amortised O(1); a peer lacking the next pieces costs a scan).
 */
export class PiecePicker {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly blockSize: number;
  readonly maxPartialPieces: number;
  readonly pieceStartBatch: number;
  readonly randomFirstPieces: number;
  readonly maxRequestersPerBlock: number;
  readonly #have: Bitfield;
  readonly #priority: Uint8Array;
  /** Availability (per piece and seeds) and the choice of new pieces: see PieceRarity. */
  readonly #rarity: PieceRarity;
  /** Bound once: a piece is started (passed to the rarity's scans). */
  readonly #isStarted = (index: number): boolean => this.#partials.has(index);
  /** Wanted pieces not verified yet. */
  #wantedMissing = 0;
  readonly #partials = new Map<number, PartialPiece>();
  /**
   * Per peer: keys (piece * blocksPerPiece + block) of its outstanding requests,
   * as a set (values unused); a NumberMap, as a Set's store would be reallocated
   * in old space by the churn (see NumberMap).
   */
  readonly #peerRequests = new Map<string, NumberMap>();
  readonly #blocksPerPiece: number;
  /** Blocks of missing pieces in state None (never-started pieces count whole). */
  #unrequested = 0;
  /** Of those, blocks of missing pieces not started: the rest are free blocks of partial pieces. */
  #unstarted = 0;
  /** Counts the changes that can make room for an endgame duplicate (a first request, a release). */
  #requestChanges = 0;
  /** #requestChanges when every requested block had its most requesters: no duplicate to give. */
  #saturatedAt = -1;
  /** Reused by #startedPiecesOf: a pick allocates no array and no sort buffer. */
  readonly #started: PartialPiece[] = [];

  constructor(options: PiecePickerOptions) {
    const { pieceCount, pieceLength, totalLength, blockSize = 16384 } = options;
    if (!Number.isInteger(pieceCount) || pieceCount < 0)
      throw new RangeError(`bad piece count ${pieceCount}`);
    if (!(pieceLength > 0) || !(blockSize > 0))
      throw new RangeError('piece length and block size must be > 0');
    if (pieceCount !== Math.ceil(totalLength / pieceLength)) {
      throw new RangeError(
        `${pieceCount} pieces do not match ${totalLength} bytes in pieces of ${pieceLength}`,
      );
    }
    if (options.have && options.have.size !== pieceCount) {
      throw new RangeError(`have bitfield of ${options.have.size} pieces, expected ${pieceCount}`);
    }
    this.pieceCount = pieceCount;
    this.pieceLength = pieceLength;
    this.totalLength = totalLength;
    this.blockSize = blockSize;
    this.maxPartialPieces = Math.max(1, options.maxPartialPieces ?? 64);
    this.pieceStartBatch = Math.min(
      this.maxPartialPieces,
      Math.max(1, options.pieceStartBatch ?? Math.floor(this.maxPartialPieces / 8)),
    );
    this.randomFirstPieces = options.randomFirstPieces ?? 4;
    this.maxRequestersPerBlock = Math.max(1, options.maxRequestersPerBlock ?? 3);
    this.#blocksPerPiece = Math.ceil(pieceLength / blockSize);
    this.#have = options.have ? new Bitfield(pieceCount, options.have.bytes) : new Bitfield(pieceCount);
    if (options.piecePriorities && options.piecePriorities.length !== pieceCount) {
      throw new RangeError(`${options.piecePriorities.length} piece priorities, expected ${pieceCount}`);
    }
    this.#priority = new Uint8Array(pieceCount).fill(NORMAL);
    if (options.piecePriorities) this.#priority.set(options.piecePriorities.map((p) => Math.min(p, HIGHEST)));
    this.#rarity = new PieceRarity({
      pieceCount,
      random: options.random,
      have: this.#have,
      priority: this.#priority,
      sequential: options.sequential ?? false,
      sequentialFirst: options.sequentialFirst,
    });
    for (let index = 0; index < pieceCount; index++) {
      if (this.#have.has(index) || this.#priority[index] === 0) continue;
      this.#unrequested += this.blockCount(index);
      this.#wantedMissing++;
    }
    this.#unstarted = this.#unrequested;
  }

  /** Wanted pieces (priority above 0) not verified yet: 0 means the selection is complete. */
  get wantedMissingCount(): number {
    return this.#wantedMissing;
  }

  get sequential(): boolean {
    return this.#rarity.sequential;
  }

  /** The priority of piece `index` (0 unwanted … 3 high). */
  priorityOf(index: number): PiecePriority {
    return (this.#priority[index] ?? 0) as PiecePriority;
  }

  /**
   * Changes every piece's priority at once (live). A piece that becomes wanted is requested from
   * the next pick on; one that becomes unwanted is never started again (if it is started, its
   * blocks are still requested until it is verified). O(pieces × availability levels) worst case,
   * once per change.
   */
  setPiecePriorities(priorities: Uint8Array, sequentialFirst?: readonly number[]): void {
    if (priorities.length !== this.pieceCount) {
      throw new RangeError(`${priorities.length} piece priorities, expected ${this.pieceCount}`);
    }
    for (let index = 0; index < this.pieceCount; index++) {
      const before = this.#priority[index]!;
      const after = Math.min(priorities[index]!, HIGHEST);
      if (before === after) continue;
      this.#priority[index] = after;
      if (this.#have.has(index)) continue;
      this.#rarity.reprioritized(index, before, after);
      if ((before === 0) === (after === 0)) continue;
      const sign = after === 0 ? -1 : 1;
      this.#wantedMissing += sign;
      // A started piece stays counted (it is finished either way); pieceFailed settles it.
      if (this.#partials.has(index)) continue;
      this.#unrequested += sign * this.blockCount(index);
      this.#unstarted += sign * this.blockCount(index);
    }
    this.#rarity.resetSequential(sequentialFirst);
  }

  /** Switches sequential picking on or off (live: the next new piece follows it). */
  setSequential(on: boolean, sequentialFirst?: readonly number[]): void {
    this.#rarity.setSequential(on, sequentialFirst);
  }

  /** Verified pieces. Read-only for callers: change it through pieceVerified(). */
  get haveBitfield(): Bitfield {
    return this.#have;
  }

  get missingPieceCount(): number {
    return this.pieceCount - this.#have.count;
  }

  get partialPieceCount(): number {
    return this.#partials.size;
  }

  /** Every missing block is requested (or received): duplicates are now allowed. */
  get inEndgame(): boolean {
    return this.#unrequested === 0 && this.#wantedMissing > 0;
  }

  /** Connected peers that have piece `index` (as far as we were told). */
  availability(index: number): number {
    return this.#rarity.availability(index);
  }

  pieceSize(index: number): number {
    return Math.min(this.pieceLength, this.totalLength - index * this.pieceLength);
  }

  blockCount(index: number): number {
    return Math.ceil(this.pieceSize(index) / this.blockSize);
  }

  /** A peer's bitfield: O(pieces), or O(1) for a seed's (complete) one. */
  addPeerBitfield(bits: Bitfield): void {
    this.#rarity.addBitfield(bits);
  }

  /** Pass the peer's current bitfield (haves included), as counted so far. */
  removePeerBitfield(bits: Bitfield): void {
    this.#rarity.removeBitfield(bits);
  }

  addPeerHave(index: number): void {
    this.#rarity.addHave(index);
  }

  /**
   * Whether pick() returns nothing for any peer now: nothing missing, or every block of the
   * started pieces asked for while no piece may start and it is not endgame.
   */
  get exhausted(): boolean {
    if (this.missingPieceCount === 0) return true;
    return this.#unrequested === this.#unstarted && this.#unrequested > 0 && !this.#mayStartPieces();
  }

  /** Up to `count` new block requests for `peer`, already marked as requested from it. */
  pick(peer: PickerPeer, count: number): BlockRequest[] {
    const out: BlockRequest[] = [];
    if (count <= 0 || this.missingPieceCount === 0) return out;
    // Nothing to give anyone (every started block asked for, no piece may start, not
    // endgame): the common case once the pipeline is full, answered without looking.
    const mayStart = this.#mayStartPieces();
    if (this.#unrequested === this.#unstarted && !mayStart && this.#unrequested > 0) return out;
    // (a) finish what is started: only pieces with a free block are looked at, and none when no
    // started piece has one (the common case with many peers: each takes what frees up at once).
    if (this.#unrequested > this.#unstarted) {
      for (const partial of this.#startedPiecesOf(peer, true)) {
        this.#takeFree(partial, peer.id, count, out);
        if (out.length >= count) return out;
      }
    }
    // (b) start new pieces, within the partial-piece budget.
    while (mayStart && out.length < count && this.#partials.size < this.maxPartialPieces) {
      const index = this.#rarity.newPiece(
        peer.has,
        this.#isStarted,
        this.#have.count < this.randomFirstPieces,
      );
      if (index === undefined) break;
      const partial = new PartialPiece(index, this.blockCount(index));
      this.#partials.set(index, partial);
      this.#unstarted -= partial.blockCount;
      this.#takeFree(partial, peer.id, count, out);
    }
    // (c) endgame: ask this peer too for blocks others are slow to deliver.
    // With every requested block at its most requesters (and nothing released since), no peer
    // can get one: 200 peers' refills in endgame no longer each walk every started block.
    if (out.length < count && this.inEndgame && this.#saturatedAt !== this.#requestChanges) {
      const before = out.length;
      this.#takeDuplicates(peer, count, out);
      if (out.length === before && everyRequestSaturated(this.#partials.values(), this.maxRequestersPerBlock))
        this.#saturatedAt = this.#requestChanges;
    }
    return out;
  }

  blockReceived(index: number, begin: number, peerId: string): BlockReceipt {
    const partial = this.#partials.get(index);
    const block = this.#blockAt(index, begin);
    if (!partial || block === undefined || partial.state[block] === BlockState.Received) return DUPLICATE;
    if (partial.state[block] === BlockState.None) this.#unrequested--;
    const requesters = partial.receive(block);
    const complete = partial.received === partial.blockCount;
    if (requesters === undefined) return complete ? COMPLETED : ACCEPTED;
    const key = this.#key(index, block);
    if (typeof requesters === 'string') {
      this.#peerRequests.get(requesters)?.delete(key);
      if (requesters === peerId) return complete ? COMPLETED : ACCEPTED;
      return { duplicate: false, pieceComplete: complete, otherRequesters: [requesters] };
    }
    // Endgame: several peers had it requested; the others get a cancel.
    for (const id of requesters) this.#peerRequests.get(id)?.delete(key);
    return {
      duplicate: false,
      pieceComplete: complete,
      otherRequesters: requesters.filter((id) => id !== peerId),
    };
  }

  /** The request of `peerId` is gone (choke, timeout, reject): the block returns to the pool if nobody else has it. */
  requestCancelled(index: number, begin: number, peerId: string): void {
    const block = this.#blockAt(index, begin);
    if (block === undefined) return;
    this.#release(index, block, peerId);
  }

  /** Releases every request of a disconnected peer. */
  peerGone(peerId: string): void {
    const keys = this.#peerRequests.get(peerId);
    if (!keys) return;
    keys.forEach((_unused, key) => {
      this.#release(Math.floor(key / this.#blocksPerPiece), key % this.#blocksPerPiece, peerId);
    });
    this.#peerRequests.delete(peerId);
  }

  pieceVerified(index: number): void {
    if (index < 0 || index >= this.pieceCount || this.#have.has(index)) return;
    const partial = this.#partials.get(index);
    if (partial) this.#dropPartial(partial);
    else if (this.#priority[index]! > 0) {
      this.#unrequested -= this.blockCount(index);
      this.#unstarted -= this.blockCount(index);
    }
    this.#have.set(index);
    if (this.#priority[index]! > 0) this.#wantedMissing--;
    this.#rarity.verified(index);
  }

  /** The piece failed its hash check (or could not be stored): all its blocks are needed again. */
  pieceFailed(index: number): void {
    const partial = this.#partials.get(index);
    if (!partial) return;
    this.#dropPartial(partial);
    if (this.#priority[index] === 0) return; // unwanted meanwhile: not needed again
    this.#unrequested += partial.blockCount;
    this.#unstarted += partial.blockCount;
  }

  /** Whether new pieces may start now: a batch of slots is free, or all that is left fits. */
  #mayStartPieces(): boolean {
    const free = this.maxPartialPieces - this.#partials.size;
    if (free <= 0) return false;
    return free >= this.pieceStartBatch || this.#unstarted <= free * this.#blocksPerPiece;
  }

  /** Partial pieces the peer has (only those with a free block, if asked), most advanced first. */
  #startedPiecesOf(peer: PickerPeer, withFreeBlocks: boolean): readonly PartialPiece[] {
    return startedPiecesOf(this.#partials.values(), peer.has, withFreeBlocks, this.#started);
  }

  #takeFree(partial: PartialPiece, peerId: string, count: number, out: BlockRequest[]): void {
    for (let block = partial.firstFree; block < partial.blockCount && out.length < count; block++) {
      if (partial.state[block] !== BlockState.None) continue;
      partial.request(block, peerId);
      this.#unrequested--;
      this.#requestChanges++;
      this.#track(peerId, partial.index, block);
      out.push(this.#request(partial.index, block));
      partial.firstFree = block + 1;
    }
    if (partial.unrequested === 0) partial.firstFree = partial.blockCount;
  }

  /** Endgame: requested blocks not yet asked of this peer, fewest requesters first. */
  #takeDuplicates(peer: PickerPeer, count: number, out: BlockRequest[]): void {
    const started = this.#startedPiecesOf(peer, false);
    for (let level = 1; level < this.maxRequestersPerBlock; level++) {
      for (const partial of started) {
        for (let block = 0; block < partial.blockCount; block++) {
          if (out.length >= count) return;
          if (partial.requesterCount(block) !== level || partial.isRequestedBy(block, peer.id)) continue;
          partial.request(block, peer.id);
          this.#track(peer.id, partial.index, block);
          out.push(this.#request(partial.index, block));
        }
      }
    }
  }

  #release(index: number, block: number, peerId: string): void {
    this.#peerRequests.get(peerId)?.delete(this.#key(index, block));
    const partial = this.#partials.get(index);
    this.#requestChanges++;
    if (partial?.release(block, peerId)) this.#unrequested++;
  }

  /** Forgets a partial piece, every request for its blocks, and its unrequested blocks' count. */
  #dropPartial(partial: PartialPiece): void {
    this.#unrequested -= partial.unrequested;
    partial.forEachRequest((block, id) =>
      this.#peerRequests.get(id)?.delete(this.#key(partial.index, block)),
    );
    this.#partials.delete(partial.index);
  }

  #track(peerId: string, index: number, block: number): void {
    let keys = this.#peerRequests.get(peerId);
    if (!keys) {
      keys = new NumberMap(64);
      this.#peerRequests.set(peerId, keys);
    }
    keys.set(this.#key(index, block), 0);
  }

  #key(index: number, block: number): number {
    return index * this.#blocksPerPiece + block;
  }

  /** Block number of `begin` in piece `index`, or undefined if it is not a block start. */
  #blockAt(index: number, begin: number): number | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.pieceCount) return undefined;
    if (!Number.isInteger(begin) || begin < 0 || begin % this.blockSize !== 0) return undefined;
    const block = begin / this.blockSize;
    return block < this.blockCount(index) ? block : undefined;
  }

  #request(index: number, block: number): BlockRequest {
    const begin = block * this.blockSize;
    return { index, begin, length: Math.min(this.blockSize, this.pieceSize(index) - begin) };
  }
}
