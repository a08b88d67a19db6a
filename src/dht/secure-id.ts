/**
 * BEP 42 (DHT security extension): a node id's first 21 bits are tied to the node's external IP
 * by a CRC32-C, so an attacker cannot place nodes at chosen ids (to poison routing tables or
 * eclipse an info-hash) without controlling many IPs. The last byte is the random `r` that chose
 * the prefix. Local, private and loopback addresses are exempt, as the BEP says.
 *
 * Also here: {@link ExternalIpVotes}, which learns our external IP from the BEP 42 `ip` field of
 * replies (one vote per replying address), so the node can switch to an id valid for it.
 */
import { addressBytes, isIpv4Mapped } from '../address.js';
import { ID_BYTES, type NodeId, type RandomBytes } from './node-id.js';

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32-C (Castagnoli), as BEP 42 uses. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const V4_MASK = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/** The address bytes BEP 42 hashes: IPv4 (also IPv4-mapped IPv6) or the first 8 bytes of IPv6. */
function bep42Bytes(host: string): Uint8Array | undefined {
  const bytes = addressBytes(host);
  if (bytes === undefined) return undefined;
  if (isIpv4Mapped(bytes)) return bytes.subarray(12);
  return bytes;
}

/** The 32-bit CRC whose first 21 bits a node id for `ip` (4 or 16 bytes) and `r` must carry. */
function prefixFor(ip: Uint8Array, r: number): number {
  const mask = ip.length === 4 ? V4_MASK : V6_MASK;
  const masked = Uint8Array.from(mask, (m, i) => ip[i]! & m);
  masked[0]! |= (r & 0x07) << 5;
  return crc32c(masked);
}

/**
 * True for addresses BEP 42 exempts: 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8, and for IPv6
 * loopback, link-local (fe80::/10) and unique-local (fc00::/7). Not a literal IP: false.
 */
export function isExemptFromSecureId(host: string): boolean {
  const ip = bep42Bytes(host);
  if (ip === undefined) return false;
  if (ip.length === 4) {
    const [a, b] = [ip[0]!, ip[1]!];
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && (b & 0xf0) === 16) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254)
    );
  }
  const loopback = ip.subarray(0, 15).every((x) => x === 0) && ip[15] === 1;
  return loopback || (ip[0] === 0xfe && (ip[1]! & 0xc0) === 0x80) || (ip[0]! & 0xfe) === 0xfc;
}

/**
 * A node id valid for `host` under BEP 42: the CRC prefix for a random `r`, random bits after
 * it, `r` in the last byte. Undefined when `host` is not a literal IP.
 */
export function secureNodeId(host: string, random: RandomBytes): NodeId | undefined {
  const ip = bep42Bytes(host);
  if (ip === undefined) return undefined;
  const id = Uint8Array.from(random(ID_BYTES));
  const r = id[19]!;
  const crc = prefixFor(ip, r);
  id[0] = crc >>> 24;
  id[1] = (crc >>> 16) & 0xff;
  id[2] = ((crc >>> 8) & 0xf8) | (id[2]! & 0x07);
  return id;
}

/** True when `id` is valid for `host` under BEP 42, or `host` is exempt (local/private). */
export function isSecureNodeId(id: NodeId, host: string): boolean {
  if (id.length !== ID_BYTES) return false;
  if (isExemptFromSecureId(host)) return true;
  const ip = bep42Bytes(host);
  if (ip === undefined) return false;
  const crc = prefixFor(ip, id[19]!);
  return id[0] === crc >>> 24 && id[1] === ((crc >>> 16) & 0xff) && (id[2]! & 0xf8) === ((crc >>> 8) & 0xf8);
}

export interface ExternalIpVotesOptions {
  /** Most recent voters remembered (older votes are forgotten). @default 50 */
  maxVoters?: number;
  /** Distinct voters that must agree before an address is believed. @default 3 */
  minVotes?: number;
}

/**
 * Our external IP as the nodes that answer us see it (BEP 42 `ip` in replies). Each replying
 * address has one vote (its latest); the table is bounded; an address is believed only when at
 * least `minVotes` distinct voters name it and it has more votes than any other.
 */
export class ExternalIpVotes {
  readonly #maxVoters: number;
  readonly #minVotes: number;
  /** Voter host → the address it reported, least recent first. */
  readonly #votes = new Map<string, string>();

  constructor(options: ExternalIpVotesOptions = {}) {
    this.#maxVoters = Math.max(1, options.maxVoters ?? 50);
    this.#minVotes = Math.max(1, options.minVotes ?? 3);
  }

  /** Records that `voter` (the replying node's host) saw us as `external` (the reply's `ip` host). */
  vote(external: string, voter: string): void {
    if (addressBytes(external) === undefined) return;
    this.#votes.delete(voter);
    this.#votes.set(voter, external);
    if (this.#votes.size > this.#maxVoters) {
      const oldest = this.#votes.keys().next().value;
      if (oldest !== undefined) this.#votes.delete(oldest);
    }
  }

  /** The believed external address, or undefined while the votes are too few or split. */
  leader(): string | undefined {
    const counts = new Map<string, number>();
    for (const external of this.#votes.values()) counts.set(external, (counts.get(external) ?? 0) + 1);
    const ranked = [...counts].sort((a, b) => b[1] - a[1]);
    const [first, second] = ranked;
    if (!first || first[1] < this.#minVotes || (second && second[1] === first[1])) return undefined;
    return first[0];
  }
}
