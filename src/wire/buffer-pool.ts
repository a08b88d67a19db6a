/**
 * Equal-sized buffers lent to message decoders (`reuseMemory`) for the bytes they must copy: the
 * unread tail of a borrowed read buffer (`detach()`) and the body of a piece message that
 * straddles reads. A decoder holds one only while it has such bytes and gives it back as soon as
 * they are consumed, so an idle connection holds none, and a busy one reuses buffers another
 * connection gave back instead of allocating (a download does not allocate per read).
 *
 * At most `maxFree` buffers wait in the pool; more given back are left to the garbage collector.
 * Memory held by the pool is bounded by `size × maxFree` whatever the number of connections.
 */
export class BufferPool {
  /** Length of every buffer lent. */
  readonly size: number;
  readonly #maxFree: number;
  readonly #free: Buffer[] = [];
  #allocated = 0;

  constructor(size: number, maxFree: number) {
    this.size = size;
    this.#maxFree = maxFree;
  }

  /** A buffer of `size` bytes (contents undefined): a free one, or a new one. */
  take(): Buffer {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    this.#allocated++;
    return Buffer.allocUnsafeSlow(this.size);
  }

  /** Gives back a buffer from {@link take}; the caller keeps no view of it. Others are ignored. */
  give(buffer: Buffer): void {
    if (buffer.length !== this.size || this.#free.length >= this.#maxFree) return;
    this.#free.push(buffer);
  }

  /** Buffers waiting to be lent. */
  get freeCount(): number {
    return this.#free.length;
  }

  /** Buffers this pool has allocated so far (for tests and the idle-connections bench). */
  get allocatedCount(): number {
    return this.#allocated;
  }
}

/** One block (16 KiB) plus a few message headers. */
export const DECODER_BUFFER_SIZE = 16 * 1024 + 64;

/**
 * The pool every `reuseMemory` decoder uses unless given another: 16 free buffers at most
 * (≈ 257 KiB), shared by all connections of the process.
 */
export const sharedDecoderPool = new BufferPool(DECODER_BUFFER_SIZE, 16);
