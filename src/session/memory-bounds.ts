/**
 * How the session's memory budget (`memoryBudget`, 16 MiB by default) is
 * split, in bytes rather than item counts, so that the bounds hold at any
 * piece length:
 * - half of it for partial pieces (each holds a full piece buffer until it
 *   verifies), with a floor of one partial piece: a piece larger than the
 *   budget must still be downloadable, one at a time;
 * - the same half bounds the spare piece buffers kept for reuse (at least
 *   one: a fresh shared buffer per piece is reclaimed late by the GC);
 * - the other half bounds complete pieces waiting for the disk.
 * Hash-blame records have their own small byte bound (HASH_BLAME_BYTES).
 */

/** Never more than this many partial pieces, however small the pieces. */
export const MAX_PARTIAL_PIECES = 64;

/** Default `memoryBudget` of a torrent session, in bytes. */
export const DEFAULT_MEMORY_BUDGET = 16 * 1024 * 1024;

/** Bytes of piece buffers (partial pieces, and separately spares) allowed by `memoryBudget`. */
export function pieceBufferBytes(memoryBudget: number): number {
  return Math.floor(memoryBudget / 2);
}

/** Partial pieces allowed at once: the piece-buffer bytes over the piece length, at least 1, at most 64. */
export function maxPartialPieces(memoryBudget: number, pieceLength: number): number {
  const fit = Math.floor(pieceBufferBytes(memoryBudget) / Math.max(1, pieceLength));
  return Math.max(1, Math.min(MAX_PARTIAL_PIECES, fit));
}
