/** Bits set in each byte value. */
const BITS_SET = Uint8Array.from({ length: 256 }, (_, value) => {
  let bits = 0;
  for (let v = value; v !== 0; v &= v - 1) bits++;
  return bits;
});

/**
 * A fixed-size set of piece indices, stored as the BEP 3 bitfield wire format
 * (high bit of byte 0 is piece 0), so it can be sent and received without copying.
 */
export class Bitfield {
  /** Number of pieces (bits). */
  readonly size: number;
  /** The bits, most significant bit first, as sent in a `bitfield` message. */
  readonly bytes: Uint8Array;
  #count = 0;

  constructor(size: number, bytes?: Uint8Array) {
    this.size = size;
    const byteLength = Math.ceil(size / 8);
    if (bytes !== undefined && bytes.length !== byteLength) {
      throw new RangeError(`bitfield of ${bytes.length} bytes for ${size} pieces`);
    }
    this.bytes = bytes ? Uint8Array.from(bytes) : new Uint8Array(byteLength);
    if (bytes) {
      // A byte at a time (a peer's bitfield arrives per connection). Spare bits past `size` are
      // not counted (the caller validates them if it cares).
      const whole = size >> 3;
      let count = 0;
      for (let i = 0; i < whole; i++) count += BITS_SET[this.bytes[i]!]!;
      const spare = byteLength * 8 - size;
      if (whole < byteLength) count += BITS_SET[this.bytes[whole]! & ((0xff << spare) & 0xff)]!;
      this.#count = count;
    }
  }

  /** Whether the spare bits at the end of `bytes` (past `size`) are all zero. */
  static spareBitsClear(size: number, bytes: Uint8Array): boolean {
    const spare = bytes.length * 8 - size;
    if (spare <= 0) return true;
    const last = bytes[bytes.length - 1] ?? 0;
    return (last & ((1 << spare) - 1)) === 0;
  }

  /** A bitfield with every bit set. */
  static full(size: number): Bitfield {
    const bytes = new Uint8Array(Math.ceil(size / 8)).fill(0xff);
    const spare = bytes.length * 8 - size;
    if (spare > 0) bytes[bytes.length - 1] = (0xff << spare) & 0xff;
    return new Bitfield(size, bytes);
  }

  /** Bits set. */
  get count(): number {
    return this.#count;
  }

  /** Every bit set. */
  get complete(): boolean {
    return this.#count === this.size;
  }

  /** No bit set. */
  get empty(): boolean {
    return this.#count === 0;
  }

  /** Bit `index` is set (false out of range). */
  has(index: number): boolean {
    if (index < 0 || index >= this.size) return false;
    return ((this.bytes[index >> 3]! >> (7 - (index & 7))) & 1) === 1;
  }

  /** Sets bit `index`; true if it changed. */
  set(index: number): boolean {
    if (index < 0 || index >= this.size || this.has(index)) return false;
    this.bytes[index >> 3]! |= 1 << (7 - (index & 7));
    this.#count++;
    return true;
  }

  /** Clears bit `index`; true if it changed. */
  clear(index: number): boolean {
    if (!this.has(index)) return false;
    this.bytes[index >> 3]! &= ~(1 << (7 - (index & 7)));
    this.#count--;
    return true;
  }

  /** The set bits' indices, ascending. */
  *indices(): IterableIterator<number> {
    for (let i = 0; i < this.size; i++) if (this.has(i)) yield i;
  }
}
