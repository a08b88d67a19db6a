/**
 * Buffers the main thread fills and a worker thread reads (piece buffers for
 * the write thread, slabs for the hash pool) live on SharedArrayBuffers, so
 * only a reference crosses threads.
 */

/** A zero-filled Buffer on a SharedArrayBuffer of its own. */
export function sharedBuffer(length: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(length));
}

/**
 * Copies `source` into `target` at `offset` with a plain memcpy. V8 copies
 * into shared memory (`set`, and `Buffer#copy`, which uses it) with relaxed
 * atomic word moves, measured 4–5× slower than memcpy, and the copy of every
 * downloaded block is a hot path; `fill` with a Buffer value of exactly the
 * filled length is a single native memcpy.
 */
export function copyIntoShared(target: Buffer, source: Uint8Array, offset: number): void {
  if (source.byteLength === 0) return; // fill() rejects an empty value
  target.fill(source, offset, offset + source.byteLength);
}
