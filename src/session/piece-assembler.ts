import { createHash, type Hash } from 'node:crypto';
import { pieceLength } from '../metainfo/piece-map.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { copyIntoShared, sharedBuffer } from '../storage/shared-memory.js';
import { BLOCK_SIZE } from '../wire/types.js';

export interface PieceWriter {
  writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void>;
}

export type VerifyOutcome =
  | { index: number; valid: true; contributors: Set<string> }
  | { index: number; valid: false; contributors: Set<string> }
  | { index: number; valid: 'error'; error: unknown; contributors: Set<string> };

/** Default bytes of spare piece buffers kept for reuse: half the default memory budget. */
const DEFAULT_SPARE_BYTES = 8 * 1024 * 1024;

export interface PieceAssemblerOptions {
  /**
   * Bytes of spare piece buffers kept for reuse, counted in whole piece
   * buffers, with a floor of one buffer: without a spare, a piece larger than
   * this gets a fresh shared buffer each time, and the GC may not reclaim the
   * old ones for several pieces (seen: 96 MiB of array buffers after six
   * 16 MiB pieces).
   * @default 8 MiB
   */
  spareBytes?: number;
}

interface PartialPiece {
  buffer: Buffer;
  /** The piece's length (the last piece is shorter): the first `length` bytes of `buffer`. */
  length: number;
  /** Per 16 KiB block: 1 once it arrived. */
  arrived: Uint8Array;
  /** SHA-1 of buffer[0, hashedUpTo): fed as soon as the blocks before it are in. */
  hash: Hash;
  hashedUpTo: number;
  contributors: Set<string>;
}

/**
 * Collects the blocks of pieces being downloaded into one buffer per piece,
 * hashes each piece as its blocks arrive, and writes it only if it matches.
 *
 * Hashing is incremental on the main thread: a block is fed to the piece's
 * SHA-1 when it arrives in order (or when the gap before it fills), while it
 * is still in the CPU cache; verifying a complete piece is then only
 * `digest()`. That costs the main thread ~10 µs per 16 KiB block, spread
 * evenly, against a worker thread's extra V8 heap (~10 MB of RSS), a message
 * round trip per piece and a second pass over the piece's memory.
 *
 * Memory is bounded by the number of partial pieces the picker allows plus
 * the pieces queued for the disk (`pendingBytes`, which the session uses to
 * stop requesting when the disk falls behind).
 */
export class PieceAssembler {
  readonly #meta: TorrentMetadata;
  readonly #writer: PieceWriter;
  readonly #partial = new Map<number, PartialPiece>();
  /** Recycled full-size piece buffers: reuse spares the allocation and page faults of a piece per piece. */
  readonly #spare: Buffer[] = [];
  /** How many spares fit in the spare budget (at least 1). */
  readonly #maxSpares: number;
  #pendingBytes = 0;

  constructor(meta: TorrentMetadata, writer: PieceWriter, options: PieceAssemblerOptions = {}) {
    this.#meta = meta;
    this.#writer = writer;
    const spareBytes = Math.max(0, options.spareBytes ?? DEFAULT_SPARE_BYTES);
    this.#maxSpares = Math.max(1, Math.floor(spareBytes / Math.max(1, meta.pieceLength)));
  }

  /** Bytes held by spare piece buffers (at most the `spareBytes` option, or one piece buffer). */
  get spareBytes(): number {
    return this.#spare.length * this.#meta.pieceLength;
  }

  /** Bytes of complete pieces waiting for the disk. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get partialCount(): number {
    return this.#partial.size;
  }

  /**
   * Copies a received block into its piece's buffer. The caller (the picker)
   * guarantees each block of a piece arrives once, at a 16 KiB boundary.
   */
  addBlock(index: number, begin: number, block: Uint8Array, from: string): void {
    let piece = this.#partial.get(index);
    if (!piece) {
      const length = pieceLength(this.#meta, index);
      piece = {
        buffer: this.#allocate(),
        length,
        arrived: new Uint8Array(Math.ceil(length / BLOCK_SIZE)),
        hash: createHash('sha1'),
        hashedUpTo: 0,
        contributors: new Set(),
      };
      this.#partial.set(index, piece);
    }
    copyIntoShared(piece.buffer, block, begin);
    piece.contributors.add(from);
    piece.arrived[begin / BLOCK_SIZE] = 1;
    if (begin !== piece.hashedUpTo) return;
    // In order: hash this block straight from the socket's bytes, then any that were waiting.
    piece.hash.update(block);
    piece.hashedUpTo += block.length;
    let next = begin / BLOCK_SIZE + 1;
    let end = piece.hashedUpTo;
    while (next < piece.arrived.length && piece.arrived[next] === 1) {
      end = Math.min(piece.length, end + BLOCK_SIZE);
      next++;
    }
    if (end > piece.hashedUpTo) {
      piece.hash.update(piece.buffer.subarray(piece.hashedUpTo, end));
      piece.hashedUpTo = end;
    }
  }

  /** Drops a partial piece (failed, or no longer wanted). */
  discard(index: number): void {
    const piece = this.#partial.get(index);
    if (!piece) return;
    this.#partial.delete(index);
    this.#release(piece.buffer);
  }

  /** Checks a piece whose blocks have all arrived, and writes it if valid. */
  async verify(index: number, onValid?: (data: Uint8Array) => void): Promise<VerifyOutcome> {
    const piece = this.#partial.get(index);
    if (!piece) throw new RangeError(`piece ${index} has no data to verify`);
    this.#partial.delete(index);
    const { length } = piece;
    const data = piece.buffer.subarray(0, length);
    try {
      if (piece.hashedUpTo !== length) {
        // Every block arrived, so the in-order feed reached the end; anything else is a caller bug.
        throw new RangeError(`piece ${index} verified with ${piece.hashedUpTo} of ${length} bytes hashed`);
      }
      const expected = this.#meta.pieceHashes.subarray(index * 20, index * 20 + 20);
      if (!piece.hash.digest().equals(expected)) {
        this.#release(piece.buffer);
        return { index, valid: false, contributors: piece.contributors };
      }
    } catch (error) {
      this.#release(piece.buffer);
      return { index, valid: 'error', error, contributors: piece.contributors };
    }
    onValid?.(data);
    this.#pendingBytes += length;
    try {
      await this.#writer.writePiece(index, [data]);
      return { index, valid: true, contributors: piece.contributors };
    } catch (error) {
      return { index, valid: 'error', error, contributors: piece.contributors };
    } finally {
      this.#pendingBytes -= length;
      this.#release(piece.buffer);
    }
  }

  clear(): void {
    for (const index of [...this.#partial.keys()]) this.discard(index);
    this.#spare.length = 0;
  }

  #allocate(): Buffer {
    // Shared memory: the storage's write thread then writes the piece without a copy.
    return this.#spare.pop() ?? sharedBuffer(this.#meta.pieceLength);
  }

  #release(buffer: Buffer): void {
    // Spares are bounded in bytes: at 16 MiB pieces and 8 MiB of spares, only the floor of one is kept.
    if (this.#spare.length < this.#maxSpares) this.#spare.push(buffer);
  }
}
