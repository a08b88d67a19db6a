/**
 * Maps pieces and arbitrary byte spans of the concatenated torrent stream onto
 * files. Each call costs O(log files + files touched): a binary search over the
 * start offsets of the non-empty files, built once per TorrentMetadata and cached.
 * Zero-length files never appear in the result (they hold no bytes), so a torrent
 * with a million empty files cannot make a lookup slow. Padding files (BEP 47) do
 * appear: storage recognises them by `meta.files[range.fileIndex].padding`.
 */

import type { Bitfield } from '../bitfield.js';
import { MetainfoError } from '../errors.js';
import type { FileRange, TorrentMetadata } from './types.js';

interface FileIndexTable {
  /** Start offsets of the non-empty files, ascending. */
  offsets: number[];
  /** Index in `meta.files` of each entry of `offsets`. */
  fileIndices: number[];
}

const tables = new WeakMap<TorrentMetadata, FileIndexTable>();

function tableFor(meta: TorrentMetadata): FileIndexTable {
  let table = tables.get(meta);
  if (table === undefined) {
    table = { offsets: [], fileIndices: [] };
    meta.files.forEach((file, index) => {
      if (file.length === 0) return;
      table!.offsets.push(file.offset);
      table!.fileIndices.push(index);
    });
    tables.set(meta, table);
  }
  return table;
}

/** Position in `offsets` of the last start offset <= `position`. */
function lastAtOrBefore(offsets: readonly number[], position: number): number {
  let low = 0;
  let high = offsets.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (offsets[middle]! <= position) low = middle;
    else high = middle - 1;
  }
  return low;
}

function assertPieceIndex(meta: TorrentMetadata, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= meta.pieceCount) {
    throw new MetainfoError(`piece index ${index} is out of range (0..${meta.pieceCount - 1})`);
  }
}

/** The length of piece `index`: `meta.pieceLength`, except for a shorter last piece. */
/** Bytes of the pieces set in `have` (the last piece may be shorter). O(1). */
export function bytesInPieces(meta: TorrentMetadata, have: Bitfield): number {
  let bytes = have.count * meta.pieceLength;
  if (meta.pieceCount > 0 && have.has(meta.pieceCount - 1)) bytes += meta.lastPieceLength - meta.pieceLength;
  return bytes;
}

export function pieceLength(meta: TorrentMetadata, index: number): number {
  assertPieceIndex(meta, index);
  return index === meta.pieceCount - 1 ? meta.lastPieceLength : meta.pieceLength;
}

/**
 * The file stretches covering bytes [offset, offset + length) of the stream.
 * `pieceOffset` of each range is relative to `offset` (the start of the span).
 */
export function fileRangesForSpan(meta: TorrentMetadata, offset: number, length: number): FileRange[] {
  const valid =
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= meta.totalLength;
  if (!valid) {
    throw new MetainfoError(
      `byte span ${offset}+${length} lies outside the torrent (${meta.totalLength} bytes)`,
    );
  }
  const ranges: FileRange[] = [];
  if (length === 0) return ranges;
  const { offsets, fileIndices } = tableFor(meta);
  const end = offset + length;
  let position = offset;
  for (let slot = lastAtOrBefore(offsets, offset); position < end && slot < offsets.length; slot++) {
    const fileIndex = fileIndices[slot]!;
    const file = meta.files[fileIndex]!;
    const fileOffset = position - file.offset;
    const take = Math.min(end, file.offset + file.length) - position;
    ranges.push({ fileIndex, fileOffset, pieceOffset: position - offset, length: take });
    position += take;
  }
  return ranges;
}

/** The file stretches of piece `index`, in order; `pieceOffset` is relative to the piece start. */
export function pieceToFileRanges(meta: TorrentMetadata, index: number): FileRange[] {
  return fileRangesForSpan(meta, index * meta.pieceLength, pieceLength(meta, index));
}
