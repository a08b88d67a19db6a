/**
 * DHT node ids and info-hashes (BEP 5): 160-bit numbers, compared by XOR distance.
 * Everything here is pure; randomness is injected so tests are repeatable.
 */

/** A 20-byte DHT node id or info-hash. */
export type NodeId = Uint8Array;

/** Bytes in an id (160 bits). */
export const ID_BYTES = 20;
/** Bits in an id. */
export const ID_BITS = 160;

/** Fills a buffer with random bytes (`crypto.randomFillSync` in production, a seeded source in tests). */
export type RandomBytes = (length: number) => Uint8Array;

/** True when `value` is a 20-byte id. */
export function isNodeId(value: unknown): value is NodeId {
  return value instanceof Uint8Array && value.length === ID_BYTES;
}

/** `a XOR b`, the Kademlia distance, as 20 bytes. */
export function xorDistance(a: NodeId, b: NodeId): Uint8Array {
  const out = new Uint8Array(ID_BYTES);
  for (let i = 0; i < ID_BYTES; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Negative when `a` is closer to `target` than `b`, positive when farther, 0 when equal. */
export function compareDistance(a: NodeId, b: NodeId, target: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const da = a[i]! ^ target[i]!;
    const db = b[i]! ^ target[i]!;
    if (da !== db) return da - db;
  }
  return 0;
}

/** Number of leading bits `a` and `b` share (160 when equal). */
export function sharedPrefixBits(a: NodeId, b: NodeId): number {
  for (let i = 0; i < ID_BYTES; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return ID_BITS;
}

/** True when both ids hold the same bytes. */
export function sameId(a: NodeId, b: NodeId): boolean {
  return sharedPrefixBits(a, b) === ID_BITS;
}

/** A random id that shares exactly the first `prefixBits` bits with `base` (the next bit differs). */
export function randomIdWithPrefix(base: NodeId, prefixBits: number, random: RandomBytes): NodeId {
  if (prefixBits < 0 || prefixBits >= ID_BITS) throw new RangeError(`prefixBits out of range: ${prefixBits}`);
  const id = Uint8Array.from(random(ID_BYTES));
  const byte = prefixBits >> 3;
  const bit = 7 - (prefixBits & 7);
  for (let i = 0; i < byte; i++) id[i] = base[i]!;
  const keepMask = (0xff << (bit + 1)) & 0xff; // bits above `bit` come from base
  const flipped = (base[byte]! ^ (1 << bit)) & (1 << bit); // the bit at `bit` differs from base
  id[byte] = (base[byte]! & keepMask) | flipped | (id[byte]! & ((1 << bit) - 1));
  return id;
}

/** Lower-case hex, for logs and map keys. */
export function idHex(id: NodeId): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}
