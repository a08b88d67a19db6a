/**
 * Bytes written by the application and not yet cut into packets: a queue of
 * chunks that hands out payloads of at most one packet.
 */
export class SendQueue {
  readonly #chunks: Uint8Array[] = [];
  #head = 0;
  #offset = 0;
  #bytes = 0;

  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
  }

  /** Removes and returns the next `size` bytes (size ≤ bytes). */
  take(size: number): Buffer {
    const out = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.#chunks[this.#head]!;
      const n = Math.min(size - filled, chunk.length - this.#offset);
      out.set(chunk.subarray(this.#offset, this.#offset + n), filled);
      filled += n;
      this.#offset += n;
      if (this.#offset === chunk.length) {
        this.#chunks[this.#head] = undefined as unknown as Uint8Array;
        this.#head++;
        this.#offset = 0;
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
    this.#bytes -= size;
    return out;
  }

  clear(): void {
    this.#chunks.length = 0;
    this.#head = 0;
    this.#offset = 0;
    this.#bytes = 0;
  }
}
