/**
 * RC4, as MSE/PE uses it: Node's OpenSSL 3 has no RC4 without the legacy provider, so this
 * is our own. It works in place on the caller's bytes, with no allocation per call, and keeps
 * its position in the keystream across calls (one instance per direction of a connection).
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const I = 256;
const J = 257;

export class Rc4 {
  /**
   * The permutation in `[0, 256)`, then the indices i and j at {@link I} and {@link J} (stores
   * into the array, not arithmetic, after the loops: see {@link process}). An Int32Array reads
   * faster than a Uint8Array in the hot loop.
   */
  readonly #s = new Int32Array(258);

  /** `discard`: keystream bytes thrown away first (MSE discards 1024). */
  constructor(key: Uint8Array, discard = 0) {
    const s = this.#s;
    for (let i = 0; i < 256; i++) s[i] = i;
    let j = 0;
    const keyLength = key.length;
    for (let i = 0; i < 256; i++) {
      const si = s[i]!;
      j = (j + si + key[i % keyLength]!) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
    if (discard > 0) this.skip(discard);
  }

  /**
   * XORs `data[start..end)` with the next keystream bytes, in place. The aligned middle is done
   * four bytes per 32-bit load and store (about twice as fast as byte by byte in V8); the
   * keystream is the same either way (little-endian: byte k of a word is keystream byte k).
   * The byte loops (unaligned head and tail) and the word loop are separate functions: in one
   * function, V8 optimised the word loop before the tail loop had run and then deoptimised
   * `process` again and again whenever a chunk ended off a word boundary (`--trace-deopt`:
   * "insufficient type feedback"), falling back to the interpreter each time.
   */
  process(data: Uint8Array, start = 0, end = data.length): void {
    const s = this.#s;
    const head = Math.min(end, start + ((4 - ((data.byteOffset + start) & 3)) & 3));
    if (head > start) xorBytes(s, data, start, head);
    let k = head;
    const words = (end - k) >> 2;
    if (words > 0 && LITTLE_ENDIAN) {
      xorWords(s, new Int32Array(data.buffer, data.byteOffset + k, words), words);
      k += words << 2;
    }
    if (end > k) xorBytes(s, data, k, end);
  }

  /** Advances the keystream by `count` bytes. */
  skip(count: number): void {
    const s = this.#s;
    let i = s[I]!;
    let j = s[J]!;
    for (let k = 0; k < count; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
    s[I] = i;
    s[J] = j;
  }
}

/** The byte-at-a-time loop. `s[256]`, `s[257]`: the indices i and j, kept between calls. */
function xorBytes(s: Int32Array, data: Uint8Array, start: number, end: number): void {
  let i = s[I]!;
  let j = s[J]!;
  for (let k = start; k < end; k++) {
    i = (i + 1) & 0xff;
    const si = s[i]!;
    j = (j + si) & 0xff;
    const sj = s[j]!;
    s[i] = sj;
    s[j] = si;
    data[k] = data[k]! ^ s[(si + sj) & 0xff]!;
  }
  s[I] = i;
  s[J] = j;
}

/** Four keystream bytes per 32-bit word of `view` (little-endian), XORed in place. */
function xorWords(s: Int32Array, view: Int32Array, words: number): void {
  let i = s[I]!;
  let j = s[J]!;
  for (let w = 0; w < words; w++) {
    i = (i + 1) & 0xff;
    let si = s[i]!;
    j = (j + si) & 0xff;
    let sj = s[j]!;
    s[i] = sj;
    s[j] = si;
    let x = s[(si + sj) & 0xff]!;
    i = (i + 1) & 0xff;
    si = s[i]!;
    j = (j + si) & 0xff;
    sj = s[j]!;
    s[i] = sj;
    s[j] = si;
    x |= s[(si + sj) & 0xff]! << 8;
    i = (i + 1) & 0xff;
    si = s[i]!;
    j = (j + si) & 0xff;
    sj = s[j]!;
    s[i] = sj;
    s[j] = si;
    x |= s[(si + sj) & 0xff]! << 16;
    i = (i + 1) & 0xff;
    si = s[i]!;
    j = (j + si) & 0xff;
    sj = s[j]!;
    s[i] = sj;
    s[j] = si;
    x |= s[(si + sj) & 0xff]! << 24;
    view[w] = view[w]! ^ x;
  }
  s[I] = i;
  s[J] = j;
}
