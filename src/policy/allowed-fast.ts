import { createHash } from 'node:crypto';

/**
 * Pieces we offer a peer through `allowed_fast` (BEP 6 suggests 10): a newcomer with nothing to
 * trade can fetch these while choked, so it soon has something to upload.
 */
export const ALLOWED_FAST_SET_SIZE = 10;

/**
 * A peer holding fewer pieces than this is sent our allowed-fast set (libtorrent's rule: only
 * peers that have little benefit from it; one that has much can trade for unchokes).
 */
export const ALLOWED_FAST_PEER_PIECE_LIMIT = ALLOWED_FAST_SET_SIZE;

/**
 * The canonical allowed-fast set of BEP 6: the first `k` distinct pieces of the SHA-1 chain
 * seeded with the peer's IPv4 address masked to its /24 followed by the info-hash, each 4-byte
 * big-endian word of a digest modulo the piece count. Deterministic, so every client computes the
 * same set for a peer (and a peer cannot get another set by opening connections from its /24).
 *
 * `ip`: the peer's address as bytes (4 for IPv4; a 16-byte IPv4-mapped IPv6 address counts as
 * its IPv4 address). BEP 6 defines the set for IPv4 only: any other address gets an empty set,
 * which means no allowed-fast pieces for that peer. `k` is capped at the piece count.
 */
export function allowedFastSet(
  ip: Uint8Array,
  infoHash: Uint8Array,
  pieceCount: number,
  k: number,
): number[] {
  const v4 = ipv4Of(ip);
  const wanted = Math.min(k, pieceCount);
  if (v4 === undefined || wanted <= 0) return [];
  let x: Buffer = Buffer.concat([Buffer.from([v4[0]!, v4[1]!, v4[2]!, 0]), Buffer.from(infoHash)]);
  const set: number[] = [];
  const seen = new Set<number>();
  // Always ends with `wanted` pieces in practice (k is small); the bound makes termination certain.
  for (let round = 0; set.length < wanted && round < MAX_ROUNDS; round++) {
    x = createHash('sha1').update(x).digest();
    for (let i = 0; i < 5 && set.length < wanted; i++) {
      const index = x.readUInt32BE(i * 4) % pieceCount;
      if (seen.has(index)) continue;
      seen.add(index);
      set.push(index);
    }
  }
  return set;
}

/** Digests computed at most: far beyond what collecting k ≤ pieces distinct pieces takes (k ≈ 10). */
const MAX_ROUNDS = 100_000;

function ipv4Of(ip: Uint8Array): Uint8Array | undefined {
  if (ip.length === 4) return ip;
  if (ip.length !== 16) return undefined;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return undefined;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return undefined;
  return ip.subarray(12);
}
