import { StorageError } from '../errors.js';
import type { FileRange, TorrentFile, TorrentMetadata } from '../metainfo/types.js';
import { assertRangeInPiece, pieceSize } from './piece-geometry.js';

/** The fields of a torrent that decide where its bytes live. */
export type LayoutMetadata = Pick<TorrentMetadata, 'files' | 'pieceLength' | 'pieceCount' | 'totalLength'>;

/**
 * Maps byte ranges of pieces onto the files of a torrent.
 *
 * Storage keeps its own small mapping (rather than importing the metainfo
 * piece map) so the two rooms can evolve independently; both derive from the
 * same `offset`/`length` fields. Lookups are a binary search over the offsets
 * of the non-empty files, so a range costs O(log files + files it touches).
 */
export class FileLayout {
  readonly files: readonly TorrentFile[];
  readonly pieceLength: number;
  readonly pieceCount: number;
  readonly totalLength: number;
  /** Indices (into `files`) of files with at least one byte, in stream order. */
  readonly #nonEmpty: number[] = [];
  /** Stream offsets of those files, for the binary search. */
  readonly #nonEmptyOffsets: number[] = [];
  /** Indices of zero-length, non-padding files, in stream order. */
  readonly #empty: number[] = [];

  constructor(meta: LayoutMetadata) {
    this.files = meta.files;
    this.pieceLength = meta.pieceLength;
    this.pieceCount = meta.pieceCount;
    this.totalLength = meta.totalLength;
    let expectedOffset = 0;
    meta.files.forEach((file, index) => {
      if (file.offset !== expectedOffset) {
        throw new StorageError(`file ${index} starts at ${file.offset}, expected ${expectedOffset}`);
      }
      expectedOffset += file.length;
      if (file.length > 0) {
        this.#nonEmpty.push(index);
        this.#nonEmptyOffsets.push(file.offset);
      } else if (!file.padding) {
        this.#empty.push(index);
      }
    });
    if (expectedOffset !== meta.totalLength) {
      throw new StorageError(`files add up to ${expectedOffset} bytes, torrent says ${meta.totalLength}`);
    }
  }

  /** Length of piece `index` (the last one is usually shorter). */
  pieceSize(index: number): number {
    return pieceSize(this, index);
  }

  /**
   * The file stretches covering `length` bytes at `begin` of piece `index`,
   * in order. Zero-length files never appear (they hold no bytes).
   */
  ranges(index: number, begin = 0, length = this.pieceSize(index)): FileRange[] {
    assertRangeInPiece(index, begin, length, this.pieceSize(index));
    const ranges: FileRange[] = [];
    if (length === 0) return ranges;
    let streamPos = index * this.pieceLength + begin;
    const streamEnd = streamPos + length;
    for (let k = this.#findFile(streamPos); k < this.#nonEmpty.length && streamPos < streamEnd; k++) {
      const fileIndex = this.#nonEmpty[k]!;
      const file = this.files[fileIndex]!;
      const fileOffset = streamPos - file.offset;
      const take = Math.min(file.length - fileOffset, streamEnd - streamPos);
      ranges.push({ fileIndex, fileOffset, pieceOffset: streamPos - index * this.pieceLength, length: take });
      streamPos += take;
    }
    return ranges;
  }

  /**
   * Zero-length files whose position touches piece `index` (offset within
   * [piece start, piece end]); they are created along with that piece so an
   * empty file of a finished download exists on disk.
   */
  emptyFilesAt(index: number): number[] {
    const start = index * this.pieceLength;
    const end = start + this.pieceSize(index);
    const found: number[] = [];
    // Binary search for the first empty file at or after `start`.
    let low = 0;
    let high = this.#empty.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.files[this.#empty[mid]!]!.offset < start) low = mid + 1;
      else high = mid;
    }
    for (let k = low; k < this.#empty.length; k++) {
      const fileIndex = this.#empty[k]!;
      if (this.files[fileIndex]!.offset > end) break;
      found.push(fileIndex);
    }
    return found;
  }

  /** Position (in #nonEmpty) of the file holding stream byte `pos`: last offset <= pos. */
  #findFile(pos: number): number {
    let low = 0;
    let high = this.#nonEmptyOffsets.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.#nonEmptyOffsets[mid]! <= pos) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}
