import type { TorrentMetadata } from '../metainfo/types.js';

export interface PieceHasher {
  hash(blocks: readonly Uint8Array[]): Promise<Buffer>;
}

export interface PieceWriter {
  writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void>;
}

export type VerifyOutcome =
  | { index: number; valid: true; contributors: Set<string> }
  | { index: number; valid: false; contributors: Set<string> }
  | { index: number; valid: 'error'; error: unknown; contributors: Set<string> };

const MAX_SPARE_BUFFERS = 128;

interface PartialPiece {
  buffer: Buffer;
  contributors: Set<string>;
}

/**
 * Collects the blocks of pieces being downloaded into one buffer per piece,
 * then hashes the piece off the event loop and writes it only if it matches.
 * Memory is bounded by the number of partial pieces the picker allows plus
 * the pieces queued for hashing/writing (`pendingBytes`, which the session
 * uses to stop requesting when the disk falls behind).
 */
export class PieceAssembler {
  readonly #meta: TorrentMetadata;
  readonly #hasher: PieceHasher;
  readonly #writer: PieceWriter;
  readonly #partial = new Map<number, PartialPiece>();
  /**
   * Recycled full-size piece buffers. They live in shared memory so the hash
   * workers read them in place (no copy per piece), and reuse spares the
   * allocation and page faults of megabytes per piece.
   */
  readonly #spare: Buffer[] = [];
  #pendingBytes = 0;

  constructor(meta: TorrentMetadata, hasher: PieceHasher, writer: PieceWriter) {
    this.#meta = meta;
    this.#hasher = hasher;
    this.#writer = writer;
  }

  /** Bytes of complete pieces waiting for their hash or their write. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get partialCount(): number {
    return this.#partial.size;
  }

  /** Copies a received block into its piece's buffer. */
  addBlock(index: number, begin: number, block: Uint8Array, from: string): void {
    let piece = this.#partial.get(index);
    if (!piece) {
      piece = { buffer: this.#allocate(), contributors: new Set() };
      this.#partial.set(index, piece);
    }
    piece.buffer.set(block, begin);
    piece.contributors.add(from);
  }

  /** Drops a partial piece (failed, or no longer wanted). */
  discard(index: number): void {
    const piece = this.#partial.get(index);
    if (!piece) return;
    this.#partial.delete(index);
    this.#release(piece.buffer);
  }

  /** Hashes a piece whose blocks have all arrived, and writes it if valid. */
  async verify(index: number, onValid?: (data: Uint8Array) => void): Promise<VerifyOutcome> {
    const piece = this.#partial.get(index);
    if (!piece) throw new RangeError(`piece ${index} has no data to verify`);
    this.#partial.delete(index);
    const length = this.#pieceLength(index);
    const data = piece.buffer.subarray(0, length);
    this.#pendingBytes += length;
    try {
      const digest = await this.#hasher.hash([data]);
      const expected = this.#meta.pieceHashes.subarray(index * 20, index * 20 + 20);
      if (!digest.equals(expected)) return { index, valid: false, contributors: piece.contributors };
      onValid?.(data);
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

  #pieceLength(index: number): number {
    return index === this.#meta.pieceCount - 1 ? this.#meta.lastPieceLength : this.#meta.pieceLength;
  }

  #allocate(): Buffer {
    return this.#spare.pop() ?? Buffer.from(new SharedArrayBuffer(this.#meta.pieceLength));
  }

  #release(buffer: Buffer): void {
    // Never more spares than pieces that can be in flight at once (partial + verifying).
    if (this.#spare.length < MAX_SPARE_BUFFERS) this.#spare.push(buffer);
  }
}
