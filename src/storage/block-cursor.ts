import type { FileHandle } from 'node:fs/promises';
import { StorageError } from '../errors.js';

/** Walks a list of blocks, handing out byte stretches as subarrays (never copies). */
export class BlockCursor {
  readonly #blocks: readonly Uint8Array[];
  #block = 0;
  #offset = 0;

  constructor(blocks: readonly Uint8Array[]) {
    this.#blocks = blocks;
  }

  /** The next `length` bytes, split at block boundaries. */
  take(length: number): Uint8Array[] {
    const parts: Uint8Array[] = [];
    let remaining = length;
    while (remaining > 0) {
      const block = this.#blocks[this.#block];
      if (!block) throw new StorageError('blocks shorter than the piece');
      const available = block.byteLength - this.#offset;
      const take = Math.min(available, remaining);
      if (take > 0) parts.push(block.subarray(this.#offset, this.#offset + take));
      remaining -= take;
      this.#offset += take;
      if (this.#offset === block.byteLength) {
        this.#block++;
        this.#offset = 0;
      }
    }
    return parts;
  }

  /** Everything after the first `length` bytes. */
  skip(length: number): Uint8Array[] {
    this.take(length);
    const rest: Uint8Array[] = [];
    const current = this.#blocks[this.#block];
    if (current && this.#offset < current.byteLength) rest.push(current.subarray(this.#offset));
    for (let k = this.#block + 1; k < this.#blocks.length; k++) rest.push(this.#blocks[k]!);
    return rest;
  }
}

/** Writes `parts` at `position` through the handle's own write()/writev(), until all is written. */
export async function writeAllAt(
  handle: FileHandle,
  position: number,
  parts: readonly Uint8Array[],
  path: string,
): Promise<void> {
  let at = position;
  let pending: readonly Uint8Array[] = parts;
  // A write may write less than asked (rare on regular files); continue with the rest.
  while (pending.length > 0) {
    // One buffer (a whole piece, the common case) goes through write(): Node's writev
    // path costs about twice the main-thread time and three times the latency per call.
    const only = pending.length === 1 ? pending[0]! : undefined;
    const { bytesWritten } = only
      ? await handle.write(only, 0, only.byteLength, at)
      : await handle.writev(pending as Uint8Array[], at);
    if (bytesWritten === 0) throw new StorageError(`no progress writing ${path}`, 'LODESTONE_ERR_IO');
    at += bytesWritten;
    pending = new BlockCursor(pending).skip(bytesWritten);
  }
}
