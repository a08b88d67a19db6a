import { StorageError } from '../errors.js';
import { assertRangeInPiece, type PieceGeometry, pieceSize } from './piece-geometry.js';
import type { Storage } from './types.js';

export type MemoryStorageMetadata = PieceGeometry;

/**
 * Keeps pieces in memory, one Buffer per written piece, for tests and
 * benchmarks. Reading a piece that was never written fails like a missing
 * file does, so callers treat it as not-have.
 */
export class MemoryStorage implements Storage {
  readonly #meta: MemoryStorageMetadata;
  readonly #pieces = new Map<number, Buffer>();

  constructor(meta: MemoryStorageMetadata) {
    this.#meta = meta;
  }

  /** Bytes held (written pieces only). */
  get byteLength(): number {
    let total = 0;
    for (const piece of this.#pieces.values()) total += piece.length;
    return total;
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}

  async read(index: number, begin: number, length: number): Promise<Buffer> {
    // A copy, so callers can keep or transfer it without aliasing the store.
    return Buffer.from(this.#range(index, begin, length));
  }

  async readInto(index: number, begin: number, target: Buffer): Promise<void> {
    target.set(this.#range(index, begin, target.length));
  }

  #range(index: number, begin: number, length: number): Buffer {
    assertRangeInPiece(index, begin, length, pieceSize(this.#meta, index));
    const piece = this.#pieces.get(index);
    if (!piece) throw new StorageError(`piece ${index} not stored`);
    return piece.subarray(begin, begin + length);
  }

  async writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void> {
    const size = pieceSize(this.#meta, index);
    const piece = Buffer.concat(blocks);
    if (piece.length !== size) {
      throw new StorageError(`piece ${index} is ${size} bytes, got ${piece.length} bytes to write`);
    }
    this.#pieces.set(index, piece);
  }

  async mayHavePiece(index: number): Promise<boolean> {
    return this.#pieces.has(index);
  }

  async hasAnyData(): Promise<boolean> {
    return this.#pieces.size > 0;
  }

  /** Test helper: forget a piece, as if its data were lost. */
  delete(index: number): boolean {
    return this.#pieces.delete(index);
  }
}
