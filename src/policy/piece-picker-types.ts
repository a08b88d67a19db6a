/**
 * The PiecePicker's types (re-exported by piece-picker.ts, its public face) and the shared,
 * never-mutated receipts its common outcomes return.
 */
import type { Bitfield } from '../bitfield.js';

/** One block to request: piece `index`, byte offset `begin` inside it, `length` bytes. */
export interface BlockRequest {
  /** Piece index. */
  index: number;
  /** Byte offset inside the piece (a multiple of the block size). */
  begin: number;
  /** Block length in bytes (the block size, or less at a piece's end). */
  length: number;
}

/** A peer as the picker sees it: a key and the pieces it has. */
export interface PickerPeer {
  /** Stable key of the connection (requests are tracked per id). */
  id: string;
  /** The pieces the peer has (its bitfield with haves applied). */
  has: Bitfield;
}

/** What {@link PiecePicker.blockReceived} says about a block that arrived. */
export interface BlockReceipt {
  /** The block was not needed (already received, piece done or never started): drop it. */
  duplicate: boolean;
  /** Every block of the piece has arrived: time to verify it. */
  pieceComplete: boolean;
  /** Other peers the block was requested from (endgame): send them a cancel. Read-only. */
  readonly otherRequesters: readonly string[];
}

// Shared, never-mutated receipts (internal to the picker; not re-exported): the common outcomes allocate nothing per block.
export const NONE: readonly string[] = Object.freeze([]);
export const DUPLICATE: BlockReceipt = Object.freeze({
  duplicate: true,
  pieceComplete: false,
  otherRequesters: NONE,
});
export const ACCEPTED: BlockReceipt = Object.freeze({
  duplicate: false,
  pieceComplete: false,
  otherRequesters: NONE,
});
export const COMPLETED: BlockReceipt = Object.freeze({
  duplicate: false,
  pieceComplete: true,
  otherRequesters: NONE,
});

/** Options of a {@link PiecePicker}: the torrent's geometry and the picking budget. */
export interface PiecePickerOptions {
  /** Pieces in the torrent. */
  pieceCount: number;
  /** Bytes per piece (the last may be shorter). */
  pieceLength: number;
  /** Size of the torrent's content in bytes. */
  totalLength: number;
  /** Bytes per requested block. @default 16384 */
  blockSize?: number;
  /** Random source in [0, 1); injected so tests are deterministic. */
  random: () => number;
  /** Pieces already verified (e.g. from a resume check). Copied. */
  have?: Bitfield;
  /** Pieces started at most at once (a partial piece's blocks sit in RAM). @default 64 */
  maxPartialPieces?: number;
  /**
   * New pieces start only while at least this many partial-piece slots are free (or every piece
   * left to start fits in the free slots), so once the budget is full they start in batches.
   * Pieces leave the budget one at a time, as each is verified and written; starting one piece
   * per verified piece sends a peer one small request message per piece, a batch one write.
   * @default maxPartialPieces / 8, at least 1
   */
  pieceStartBatch?: number;
  /** Below this many verified pieces, new pieces are picked at random, not rarest first. @default 4 */
  randomFirstPieces?: number;
  /** Peers one block may be requested from at once in endgame (original + duplicates). @default 3 */
  maxRequestersPerBlock?: number;
  /**
   * Per piece: {@link PiecePriority} 0 (unwanted: never requested) to 3 (high). Copied.
   * @default every piece normal (2)
   */
  piecePriorities?: Uint8Array;
  /** Pick pieces in index order (after `sequentialFirst`), not rarest first. @default false */
  sequential?: boolean;
  /** With `sequential`: pieces that go first within their priority class, e.g. each file's first and last. */
  sequentialFirst?: readonly number[];
}

/** A piece's priority in the picker: 0 unwanted, 1 low, 2 normal, 3 high. */
export type PiecePriority = 0 | 1 | 2 | 3;
export const NORMAL: PiecePriority = 2;
export const HIGHEST: PiecePriority = 3;
