import { assertRangeInPiece, type PieceGeometry, pieceSize } from './piece-geometry.js';
import type { ReadCacheBudget } from './read-cache-budget.js';
import type { Storage } from './types.js';

export interface ReadCacheOptions {
  /** Bytes of whole pieces kept. @default 16 MiB */
  maxBytes?: number;
  /**
   * A bound shared with other caches (a client's torrents): when given, it replaces `maxBytes`
   * and this cache's pieces and pooled buffers count against it, in one LRU over all caches.
   */
  budget?: ReadCacheBudget;
}

/** A block lent out of the cache: call `release()` once nothing reads `block` any more. */
export interface BlockLease {
  block: Buffer;
  release(): void;
}

interface CachedPiece {
  buffer: Buffer;
  size: number;
  /** Leases not yet released: the buffer is reused only once this is 0 and the piece left the cache. */
  leases: number;
  /** A plain read() handed out a view nobody will release: never reuse this buffer. */
  escaped: boolean;
  evicted: boolean;
  /** The buffer went back to the pool: this entry's bytes are no longer its piece's. */
  recycled: boolean;
}

/** Attempts to pin a piece before falling back to an uncached read (only an eviction storm needs a second). */
const PIN_ATTEMPTS = 3;

const NO_RELEASE = (): void => {};

/**
 * An LRU of recently read whole pieces in front of a Storage, for uploading:
 * peers ask for a piece block by block (and several peers often want the same
 * piece), so the first request reads the whole piece once and the others are
 * served from memory. Concurrent misses on one piece share a single read.
 *
 * Piece buffers are reused rather than allocated per read: a seeder reads
 * hundreds of pieces a second, and fresh buffers of that size fragment the
 * malloc heap until RSS is twice the cache. So blocks are lent (`lease`): a
 * buffer goes back to the pool only once its piece left the cache and every
 * lease on it was released (for a socket: after the write completed). A
 * lease never released only costs the reuse of that buffer. Pooling needs a
 * storage with `readInto`; others get a fresh buffer per piece.
 *
 * Returned buffers are views into the cached piece: treat them as read-only.
 * Pieces larger than the whole budget bypass the cache and are read block
 * by block.
 */
export class ReadCache {
  readonly maxBytes: number;
  readonly #storage: Pick<Storage, 'read' | 'readInto'>;
  readonly #meta: PieceGeometry;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #pieces = new Map<number, CachedPiece>();
  readonly #loading = new Map<number, Promise<CachedPiece>>();
  /** Reusable buffers of `pieceLength` bytes, at most as many as the budget holds. */
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;
  #bytes = 0;
  readonly #budget: ReadCacheBudget | undefined;
  readonly #leaveBudget: (() => void) | undefined;
  /** Bumped by invalidate(), so a load started before it is not cached after it. */
  readonly #generation = new Map<number, number>();

  constructor(
    storage: Pick<Storage, 'read' | 'readInto'>,
    meta: PieceGeometry,
    options: ReadCacheOptions = {},
  ) {
    this.#storage = storage;
    this.#meta = meta;
    this.#budget = options.budget;
    this.maxBytes = options.budget?.maxBytes ?? Math.max(0, options.maxBytes ?? 16 * 1024 * 1024);
    this.#maxFree = Math.floor(this.maxBytes / Math.max(1, meta.pieceLength));
    this.#leaveBudget = options.budget?.addPool(() => this.#dropPool());
  }

  /** Bytes currently cached. */
  get byteLength(): number {
    return this.#bytes;
  }

  /** Pooled buffers waiting for reuse (diagnostics and tests). */
  get pooledBuffers(): number {
    return this.#free.length;
  }

  /** A block as a lease; release it once the block has been sent. */
  async lease(index: number, begin: number, length: number): Promise<BlockLease> {
    const piece = await this.#pin(index, begin, length);
    if (!piece) return { block: await this.#storage.read(index, begin, length), release: NO_RELEASE };
    piece.leases++;
    let released = false;
    return {
      block: piece.buffer.subarray(begin, begin + length),
      release: () => {
        if (released) return;
        released = true;
        piece.leases--;
        this.#recycle(piece);
      },
    };
  }

  /** A block whose memory is never reused by the cache (for callers that keep it). */
  async read(index: number, begin: number, length: number): Promise<Buffer> {
    const piece = await this.#pin(index, begin, length);
    if (!piece) return this.#storage.read(index, begin, length);
    piece.escaped = true;
    return piece.buffer.subarray(begin, begin + length);
  }

  /**
   * The cached piece holding the range, to be pinned by the caller in the
   * same synchronous step; undefined when the piece bypasses the cache. A
   * piece can be evicted and its buffer recycled between a load settling and
   * its awaiting callers resuming, so a recycled entry means "load again".
   */
  async #pin(index: number, begin: number, length: number): Promise<CachedPiece | undefined> {
    const size = pieceSize(this.#meta, index);
    assertRangeInPiece(index, begin, length, size);
    if (size > this.maxBytes) return undefined;
    for (let attempt = 0; attempt < PIN_ATTEMPTS; attempt++) {
      const piece = await this.#piece(index, size);
      if (!piece.recycled) return piece;
    }
    return undefined;
  }

  /** Drops a piece (e.g. after it was rewritten or found corrupt). */
  invalidate(index: number): void {
    this.#generation.set(index, (this.#generation.get(index) ?? 0) + 1);
    this.#loading.delete(index);
    const piece = this.#pieces.get(index);
    if (piece) this.#evict(index, piece);
  }

  clear(): void {
    for (const index of [...this.#pieces.keys(), ...this.#loading.keys()]) this.invalidate(index);
    this.#dropPool();
  }

  /** Empties the cache and leaves the shared budget (the torrent stopped). */
  close(): void {
    this.clear();
    this.#leaveBudget?.();
  }

  #dropPool(): void {
    this.#budget?.unpooled(this.#free.length * this.#meta.pieceLength);
    this.#free.length = 0;
  }

  #piece(index: number, size: number): Promise<CachedPiece> {
    const cached = this.#pieces.get(index);
    if (cached) {
      this.#pieces.delete(index);
      this.#pieces.set(index, cached);
      this.#budget?.touch(cached);
      return Promise.resolve(cached);
    }
    const loading = this.#loading.get(index);
    if (loading) return loading;
    const generation = this.#generation.get(index) ?? 0;
    const load = this.#load(index, size).then(
      (piece) => {
        if (this.#loading.get(index) === load) this.#loading.delete(index);
        if ((this.#generation.get(index) ?? 0) === generation) this.#store(index, piece);
        else piece.evicted = true; // served to this load's callers, never cached
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

  async #load(index: number, size: number): Promise<CachedPiece> {
    const entry = (buffer: Buffer, escaped: boolean): CachedPiece => ({
      buffer,
      size,
      leases: 0,
      escaped,
      evicted: false,
      recycled: false,
    });
    // Without readInto the storage hands out its own buffer: not ours to pool.
    if (!this.#storage.readInto) return entry(await this.#storage.read(index, 0, size), true);
    const pooled = this.#free.pop();
    if (pooled) this.#budget?.unpooled(pooled.length);
    const buffer = pooled ?? Buffer.allocUnsafeSlow(this.#meta.pieceLength);
    try {
      await this.#storage.readInto(index, 0, buffer.subarray(0, size));
    } catch (error) {
      this.#pool(buffer);
      throw error;
    }
    return entry(buffer, false);
  }

  #store(index: number, piece: CachedPiece): void {
    const previous = this.#pieces.get(index);
    if (previous) this.#evict(index, previous);
    this.#pieces.set(index, piece);
    this.#bytes += piece.size;
    if (this.#budget) {
      this.#budget.stored(piece, piece.size, () => {
        if (this.#pieces.get(index) === piece) this.#evict(index, piece);
      });
      return;
    }
    for (const [oldest, entry] of this.#pieces) {
      if (this.#bytes <= this.maxBytes) break;
      this.#evict(oldest, entry);
    }
  }

  #evict(index: number, piece: CachedPiece): void {
    this.#pieces.delete(index);
    this.#bytes -= piece.size;
    this.#budget?.removed(piece, piece.size);
    piece.evicted = true;
    this.#recycle(piece);
  }

  #recycle(piece: CachedPiece): void {
    if (!piece.evicted || piece.leases > 0 || piece.escaped || piece.recycled) return;
    if (piece.buffer.length !== this.#meta.pieceLength || this.#free.length >= this.#maxFree) return;
    piece.recycled = true;
    this.#pool(piece.buffer);
  }

  /** Keeps a buffer for reuse if the pool (and the shared budget) has room. */
  #pool(buffer: Buffer): void {
    if (this.#free.length >= this.#maxFree) return;
    if (this.#budget && !this.#budget.mayPool(buffer.length)) return;
    this.#free.push(buffer);
  }
}
