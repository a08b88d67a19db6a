/**
 * The documented byte bounds of a download's piece buffers
 * (src/session/memory-bounds.ts, session option `memoryBudget`), as the
 * big-pieces row judges them: what a Lodestone leecher may hold in piece
 * buffers at a given piece length, over and above what it needs anyway.
 */
import { DEFAULT_MEMORY_BUDGET, maxPartialPieces, pieceBufferBytes } from '../src/session/memory-bounds.js';

export interface PieceBufferBound {
  pieceLength: number;
  memoryBudget: number;
  /** Partial pieces: maxPartialPieces (half the budget over the piece length, 1 to 64) full buffers. */
  partialBytes: number;
  /** Spare buffers kept for reuse: half the budget, at least one piece buffer. */
  spareBytes: number;
  /**
   * Complete pieces waiting for their hash check or the disk: requests pause
   * once half the budget waits, and the partial pieces still in flight may
   * then complete; they are counted in partialBytes already, so this is the
   * half budget itself.
   */
  pendingBytes: number;
  totalBytes: number;
}

export function pieceBufferBound(
  pieceLength: number,
  memoryBudget: number = DEFAULT_MEMORY_BUDGET,
): PieceBufferBound {
  const half = pieceBufferBytes(memoryBudget);
  const partialBytes = maxPartialPieces(memoryBudget, pieceLength) * pieceLength;
  const spareBytes = Math.max(1, Math.floor(half / Math.max(1, pieceLength))) * pieceLength;
  const pendingBytes = half;
  return {
    pieceLength,
    memoryBudget,
    partialBytes,
    spareBytes,
    pendingBytes,
    totalBytes: partialBytes + spareBytes + pendingBytes,
  };
}

export interface BudgetVerdict {
  /** The bound the peak RSS is judged against: baseline + piece-buffer bound (undefined without a baseline). */
  budgetMiB?: number;
  held?: boolean;
}

/**
 * Peak RSS with big pieces is within budget when it is at most the same
 * client's peak RSS with small pieces in the same run (Node, threads, the
 * small pieces' own buffers) plus the whole piece-buffer bound at the big
 * piece length.
 */
export function judgeBudget(
  peakRssMiB: number | undefined,
  baselineMiB: number | undefined,
  bound: PieceBufferBound,
): BudgetVerdict {
  if (baselineMiB === undefined) return {};
  const budgetMiB = baselineMiB + bound.totalBytes / (1024 * 1024);
  return peakRssMiB === undefined ? { budgetMiB } : { budgetMiB, held: peakRssMiB <= budgetMiB };
}
