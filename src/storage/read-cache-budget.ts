/**
 * One memory bound in bytes for the read caches of every torrent of a client: pieces cached plus
 * piece buffers pooled for reuse, over all caches, never exceed `maxBytes` once a store is over
 * (a piece being loaded is not counted until it is stored). When a store goes over, pooled
 * buffers go first (they only save an allocation), then the least recently used pieces of any
 * torrent: one LRU for the whole client, so a busy torrent uses the memory an idle one does not.
 */
export class ReadCacheBudget {
  readonly maxBytes: number;
  #cached = 0;
  #pooled = 0;
  #peak = 0;
  /** Map order is recency order over all caches: token → its eviction. */
  readonly #lru = new Map<object, () => void>();
  /** Each cache's way to drop its pooled buffers (they give their bytes back through unpooled). */
  readonly #pools = new Set<() => void>();

  constructor(maxBytes: number) {
    this.maxBytes = Math.max(0, Math.floor(maxBytes));
  }

  /** Bytes of pieces cached now, over all caches. */
  get cachedBytes(): number {
    return this.#cached;
  }

  /** Bytes of piece buffers pooled for reuse now, over all caches. */
  get pooledBytes(): number {
    return this.#pooled;
  }

  /** The most `cachedBytes + pooledBytes` seen after any store (tests and diagnostics). */
  get peakBytes(): number {
    return this.#peak;
  }

  /** Registers a cache's pool drop; returns the unregister function. */
  addPool(drop: () => void): () => void {
    this.#pools.add(drop);
    return () => this.#pools.delete(drop);
  }

  /** A piece stored under `token` (most recently used); evicts others until the bound holds. */
  stored(token: object, bytes: number, evict: () => void): void {
    this.#lru.set(token, evict);
    this.#cached += bytes;
    if (this.#cached + this.#pooled > this.maxBytes) for (const drop of [...this.#pools]) drop();
    for (const [oldest, evictOldest] of this.#lru) {
      if (this.#cached + this.#pooled <= this.maxBytes) break;
      if (oldest !== token) evictOldest();
    }
    this.#peak = Math.max(this.#peak, this.#cached + this.#pooled);
  }

  /** A cached piece was read: it becomes the most recently used. */
  touch(token: object): void {
    const evict = this.#lru.get(token);
    if (evict === undefined) return;
    this.#lru.delete(token);
    this.#lru.set(token, evict);
  }

  /** A piece left its cache (evicted or invalidated). */
  removed(token: object, bytes: number): void {
    if (this.#lru.delete(token)) this.#cached -= bytes;
  }

  /** Whether a buffer of `bytes` may be pooled; if so it is counted until `unpooled`. */
  mayPool(bytes: number): boolean {
    if (this.#cached + this.#pooled + bytes > this.maxBytes) return false;
    this.#pooled += bytes;
    return true;
  }

  /** A pooled buffer was taken for reuse or dropped. */
  unpooled(bytes: number): void {
    this.#pooled = Math.max(0, this.#pooled - bytes);
  }
}
