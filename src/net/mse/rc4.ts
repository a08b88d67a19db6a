/**
 * RC4, as MSE/PE uses it: Node's OpenSSL 3 has no RC4 without the legacy provider, so this
 * is our own. It works in place on the caller's bytes, with no allocation per call, and keeps
 * its position in the keystream across calls (one instance per direction of a connection).
 */
export class Rc4 {
  readonly #s = new Uint8Array(256);
  #i = 0;
  #j = 0;

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

  /** XORs `data[start..end)` with the next keystream bytes, in place. */
  process(data: Uint8Array, start = 0, end = data.length): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let k = start; k < end; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[k] = data[k]! ^ s[(si + sj) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
  }

  /** Advances the keystream by `count` bytes. */
  skip(count: number): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let k = 0; k < count; k++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
    this.#i = i;
    this.#j = j;
  }
}
