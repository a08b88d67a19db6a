import { assertRangeInPiece, type PieceGeometry, pieceSize } from './piece-geometry.js';
import type { Storage } from './types.js';

export interface ReadCacheOptions {
  /** Bytes of whole pieces kept. @default 16 MiB */
  maxBytes?: number;
}

/**
 * An LRU of recently read whole pieces in front of a Storage, for uploading:
 * peers ask for a piece block by block (and several peers often want the same
 * piece), so the first request reads the whole piece once and the others are
 * served from memory. Concurrent misses on one piece share a single read.
 *
 * Returned buffers are views into the cached piece: treat them as read-only
 * (sockets only read them). Pieces larger than the whole budget bypass the
 * cache and are read block by block.
 */
export class ReadCache {
  readonly maxBytes: number;
  readonly #storage: Pick<Storage, 'read'>;
  readonly #meta: PieceGeometry;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #pieces = new Map<number, Buffer>();
  readonly #loading = new Map<number, Promise<Buffer>>();
  #bytes = 0;
  /** Bumped by invalidate(), so a load started before it is not cached after it. */
  readonly #generation = new Map<number, number>();

  constructor(storage: Pick<Storage, 'read'>, meta: PieceGeometry, options: ReadCacheOptions = {}) {
    this.#storage = storage;
    this.#meta = meta;
    this.maxBytes = Math.max(0, options.maxBytes ?? 16 * 1024 * 1024);
  }

  /** Bytes currently cached. */
  get byteLength(): number {
    return this.#bytes;
  }

  async read(index: number, begin: number, length: number): Promise<Buffer> {
    const size = pieceSize(this.#meta, index);
    assertRangeInPiece(index, begin, length, size);
    if (size > this.maxBytes) return this.#storage.read(index, begin, length);
    const piece = await this.#piece(index, size);
    return piece.subarray(begin, begin + length);
  }

  /** Drops a piece (e.g. after it was rewritten or found corrupt). */
  invalidate(index: number): void {
    this.#generation.set(index, (this.#generation.get(index) ?? 0) + 1);
    this.#loading.delete(index);
    const piece = this.#pieces.get(index);
    if (piece) {
      this.#pieces.delete(index);
      this.#bytes -= piece.length;
    }
  }

  clear(): void {
    for (const index of [...this.#pieces.keys(), ...this.#loading.keys()]) this.invalidate(index);
  }

  #piece(index: number, size: number): Promise<Buffer> {
    const cached = this.#pieces.get(index);
    if (cached) {
      this.#pieces.delete(index);
      this.#pieces.set(index, cached);
      return Promise.resolve(cached);
    }
    const loading = this.#loading.get(index);
    if (loading) return loading;
    const generation = this.#generation.get(index) ?? 0;
    const load = this.#storage.read(index, 0, size).then(
      (piece) => {
        if (this.#loading.get(index) === load) this.#loading.delete(index);
        if ((this.#generation.get(index) ?? 0) === generation) this.#store(index, piece);
        return piece;
      },
      (error: unknown) => {
        // Failures are not cached: the next request tries the disk again.
        if (this.#loading.get(index) === load) this.#loading.delete(index);
        throw error;
      },
    );
    this.#loading.set(index, load);
    return load;
  }

  #store(index: number, piece: Buffer): void {
    const previous = this.#pieces.get(index);
    if (previous) this.#bytes -= previous.length;
    this.#pieces.set(index, piece);
    this.#bytes += piece.length;
    for (const [oldest, buffer] of this.#pieces) {
      if (this.#bytes <= this.maxBytes) break;
      this.#pieces.delete(oldest);
      this.#bytes -= buffer.length;
    }
  }
}
