import { StorageError } from '../errors.js';
import type { TorrentMetadata } from '../metainfo/types.js';

export type PieceGeometry = Pick<TorrentMetadata, 'pieceLength' | 'pieceCount' | 'totalLength'>;

/** Length of piece `index` (the last one is usually shorter); StorageError when out of range. */
export function pieceSize(meta: PieceGeometry, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= meta.pieceCount) {
    throw new StorageError(`piece ${index} out of range (0..${meta.pieceCount - 1})`);
  }
  return Math.min(meta.pieceLength, meta.totalLength - index * meta.pieceLength);
}

/** Throws StorageError unless `length` bytes at `begin` lie inside a piece of `size` bytes. */
export function assertRangeInPiece(index: number, begin: number, length: number, size: number): void {
  const valid = Number.isInteger(begin) && Number.isInteger(length) && begin >= 0 && length >= 0;
  if (!valid || begin + length > size) {
    throw new StorageError(`range ${begin}+${length} is outside piece ${index} of ${size} bytes`);
  }
}
