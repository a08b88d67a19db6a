import type { Bitfield } from '../bitfield.js';
import type { PiecePriority } from './piece-picker-types.js';
import { HIGHEST } from './piece-picker-types.js';
import { RarityOrder } from './rarity-order.js';
import { SequentialOrder } from './sequential-order.js';

/**
 * The PiecePicker's availability bookkeeping and its choice of a new piece to start.
 *
 * Availability of a piece = `seeds` + its per-piece count. A peer whose bitfield is complete is
 * counted once in `seeds` (libtorrent's `m_seeds`): its bitfield costs O(1), not O(pieces), and
 * its leaving too. A complete bitfield adds one to every piece whichever way it is counted, so
 * removing one takes it from `seeds` while that is above 0 (even if that peer was counted per
 * piece, having completed through `have`s) and from every piece otherwise: the totals stay exact,
 * and the per-piece counts differ from the true ones by the same amount for every piece, which
 * leaves the rarity order as it is.
 *
 * Candidates (pieces missing and wanted) live in one RarityOrder per priority class, sharing the
 * per-piece counts; unwanted pieces are in none and are never started. Pure: no clocks, no I/O;
 * the only randomness is the injected `random`.
 */
export class PieceRarity {
  readonly #pieceCount: number;
  readonly #random: () => number;
  /** Shared with the picker, which changes them (read-only here). */
  readonly #have: Bitfield;
  readonly #priority: Uint8Array;
  /** One order per priority class, indexed by priority (slot 0 unused). */
  readonly #orders: RarityOrder[];
  /** Per-piece counts of the peers not counted in #seeds. */
  readonly #counts: Uint32Array;
  #seeds = 0;
  #sequential: boolean;
  readonly #sequentialOrder: SequentialOrder;
  /** Bound once: the sequential order's test of a piece it may pass for good. */
  readonly #settled = (index: number): boolean => this.#have.has(index) || this.#priority[index] === 0;

  constructor(options: {
    pieceCount: number;
    random: () => number;
    have: Bitfield;
    priority: Uint8Array;
    sequential: boolean;
    sequentialFirst: readonly number[] | undefined;
  }) {
    const { pieceCount, have, priority } = options;
    this.#pieceCount = pieceCount;
    this.#random = options.random;
    this.#have = have;
    this.#priority = priority;
    this.#counts = new Uint32Array(pieceCount);
    this.#orders = [0, 1, 2, 3].map(
      (level) =>
        new RarityOrder(
          pieceCount,
          (index) => level > 0 && priority[index] === level && !have.has(index),
          this.#counts,
        ),
    );
    this.#sequential = options.sequential;
    this.#sequentialOrder = new SequentialOrder(pieceCount, options.sequentialFirst);
  }

  /** Connected peers counted as seeds (their bitfield was complete when it came). */
  get seeds(): number {
    return this.#seeds;
  }

  /** Connected peers that have piece `index` (as far as we were told). */
  availability(index: number): number {
    return index >= 0 && index < this.#pieceCount ? this.#counts[index]! + this.#seeds : 0;
  }

  get sequential(): boolean {
    return this.#sequential;
  }

  setSequential(on: boolean, sequentialFirst?: readonly number[]): void {
    this.#sequential = on;
    this.resetSequential(sequentialFirst);
  }

  /** New head-start pieces, or none, and every piece looked at again. */
  resetSequential(sequentialFirst?: readonly number[]): void {
    if (sequentialFirst) this.#sequentialOrder.setFirst(sequentialFirst);
    else this.#sequentialOrder.reset();
  }

  addBitfield(bits: Bitfield): void {
    if (this.#isSeed(bits)) this.#seeds++;
    else forEachSetBit(bits, this.#pieceCount, (index) => this.#increment(index));
  }

  /** Pass the peer's current bitfield (haves included), as counted so far. */
  removeBitfield(bits: Bitfield): void {
    if (this.#isSeed(bits) && this.#seeds > 0) this.#seeds--;
    else forEachSetBit(bits, this.#pieceCount, (index) => this.#decrement(index));
  }

  addHave(index: number): void {
    if (Number.isInteger(index) && index >= 0 && index < this.#pieceCount) this.#increment(index);
  }

  /** Piece `index` moved from priority class `before` to `after` (not had). */
  reprioritized(index: number, before: number, after: number): void {
    if (before > 0) this.#orders[before]!.remove(index);
    if (after > 0) this.#orders[after]!.insert(index);
  }

  /** Piece `index` is had: no longer a candidate. */
  verified(index: number): void {
    this.#orders[this.#priority[index]!]?.remove(index);
  }

  /**
   * The next piece to start for a peer that has `has`: from the highest priority class that has
   * one, not `started`; at random while `randomFirst`, else rarest first (random among equals),
   * or in index order in sequential mode.
   */
  newPiece(has: Bitfield, started: (index: number) => boolean, randomFirst: boolean): number | undefined {
    for (let level = HIGHEST; level > 0; level--) {
      const order = this.#orders[level]!;
      if (order.length === 0) continue;
      const found = this.#sequential
        ? this.#sequentialOrder.next(
            this.#settled,
            (index) =>
              this.#priority[index] === level && !this.#have.has(index) && !started(index) && has.has(index),
          )
        : randomFirst
          ? this.#randomPiece(has, started, order)
          : this.#rarestPiece(has, started, order);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  #isSeed(bits: Bitfield): boolean {
    return bits.size === this.#pieceCount && bits.complete;
  }

  #increment(index: number): void {
    const order = this.#orderOf(index);
    if (order) order.increment(index);
    else this.#counts[index]!++;
  }

  #decrement(index: number): void {
    const order = this.#orderOf(index);
    if (order) order.decrement(index);
    else if (this.#counts[index]! > 0) this.#counts[index]!--;
  }

  /** The order holding piece `index`, if it is a candidate (missing and wanted). */
  #orderOf(index: number): RarityOrder | undefined {
    const priority = this.#priority[index]! as PiecePriority;
    const order = this.#orders[priority];
    return order !== undefined && priority > 0 && order.contains(index) ? order : undefined;
  }

  /**
   * A random piece the peer has that is not started. Scans circularly from a random position;
   * without seeds, first over pieces some counted peer has, then the rest in case the peer was
   * not counted.
   */
  #randomPiece(has: Bitfield, started: (index: number) => boolean, order: RarityOrder): number | undefined {
    if (this.#seeds > 0) return this.#scan(has, started, order, 0, order.length);
    const [, zeroEnd] = order.bucket(0);
    return (
      this.#scan(has, started, order, zeroEnd, order.length) ?? this.#scan(has, started, order, 0, zeroEnd)
    );
  }

  /**
   * The rarest piece the peer has that is not started; random among equals. Per-piece count 0
   * is the rarest level when seeds are counted (those pieces only the seeds have), and otherwise
   * last (nobody counted has them: in case the peer was not counted).
   */
  #rarestPiece(has: Bitfield, started: (index: number) => boolean, order: RarityOrder): number | undefined {
    const zeroFirst = this.#seeds > 0;
    if (zeroFirst) {
      const [start, end] = order.bucket(0);
      const found = this.#scan(has, started, order, start, end);
      if (found !== undefined) return found;
    }
    for (let level = 1; level <= order.maxLevel; level++) {
      const [start, end] = order.bucket(level);
      const found = this.#scan(has, started, order, start, end);
      if (found !== undefined) return found;
    }
    if (zeroFirst) return undefined;
    const [start, end] = order.bucket(0);
    return this.#scan(has, started, order, start, end);
  }

  /**
   * First eligible piece in order positions [start, end), starting at a random position and
   * wrapping. Not perfectly uniform (a piece after a run of ineligible ones is likelier), which
   * is fine for spreading requests.
   */
  #scan(
    has: Bitfield,
    started: (index: number) => boolean,
    order: RarityOrder,
    start: number,
    end: number,
  ): number | undefined {
    const size = end - start;
    if (size <= 0) return undefined;
    const offset = Math.min(size - 1, Math.floor(this.#random() * size));
    for (let k = 0; k < size; k++) {
      const index = order.at(start + ((offset + k) % size));
      if (!started(index) && has.has(index)) return index;
    }
    return undefined;
  }
}

/** Calls `fn` for each set bit below `limit`, skipping zero bytes (sparse bitfields are cheap). */
function forEachSetBit(bits: Bitfield, limit: number, fn: (index: number) => void): void {
  const bytes = bits.bytes;
  const end = Math.min(limit, bits.size);
  for (let byteIndex = 0; byteIndex * 8 < end; byteIndex++) {
    const byte = bytes[byteIndex]!;
    if (byte === 0) continue;
    for (let bit = 0; bit < 8; bit++) {
      const index = byteIndex * 8 + bit;
      if (index < end && (byte & (0x80 >> bit)) !== 0) fn(index);
    }
  }
}
