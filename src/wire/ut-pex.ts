import { addressBytes, formatIpBytes, type PeerAddress } from '../address.js';
import type { BencodeValue } from '../bencode/index.js';
import { decode, encode, getBytes, isDict } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';

/**
 * BEP 11 `added.f` / `added6.f`: one byte of flags per added peer. Only positive: a flag not set
 * says nothing (a peer without 0x04 may still speak uTP).
 */
export const PEX_FLAGS = {
  /** The peer prefers (or supports) protocol encryption. */
  encryption: 0x01,
  /** The peer is a seed or upload-only. */
  seed: 0x02,
  /** The peer supports uTP (BEP 29). */
  utp: 0x04,
  /** The peer supports the holepunch extension (BEP 55). */
  holepunch: 0x08,
  /** The sender reached this address by dialling it: it accepts connections. */
  reachable: 0x10,
} as const;

/** One peer a PEX message announces: its address and its `added.f` flags (0..255). */
export interface PexPeer {
  address: PeerAddress;
  flags: number;
}

/**
 * A `ut_pex` message, IPv4 and IPv6 together (the codec splits them into `added`/`added6` and
 * `dropped`/`dropped6`). Hosts are literal addresses; IPv6 ones in canonical (RFC 5952) text.
 */
export interface PexMessage {
  added: PexPeer[];
  dropped: PeerAddress[];
}

/**
 * Most entries read from each of the four lists of one received message; the rest is ignored.
 * libtorrent sends at most 100 added peers a message (`max_peer_entries`), so more is noise or a
 * flood; this bounds the objects one message can make us build (an extended message may be
 * ~128 KiB: ~21,000 compact peers).
 */
export const MAX_PEX_DECODED_ENTRIES = 100;

/** The dictionary is six strings; these limits only stop abuse. */
const DECODE_LIMITS = { lenient: true, maxDepth: 4, maxItems: 1000 } as const;

const IPV4_ENTRY = 6;
const IPV6_ENTRY = 18;

/**
 * The payload of an extended message carrying ut_pex (sent with the PEER's id for ut_pex).
 * Empty lists are still written, as libtorrent does. Throws WireError for an address that is not
 * a literal IP, a port outside 1..65535 or flags outside 0..255 (a caller bug).
 */
export function encodePexMessage(message: PexMessage): Buffer {
  const added4: PexPeer[] = [];
  const added6: PexPeer[] = [];
  for (const peer of message.added) {
    if (!Number.isInteger(peer.flags) || peer.flags < 0 || peer.flags > 0xff) {
      throw new WireError(`cannot encode PEX flags ${peer.flags}`);
    }
    (isIpv6(peer.address.host) ? added6 : added4).push(peer);
  }
  const dropped4 = message.dropped.filter((address) => !isIpv6(address.host));
  const dropped6 = message.dropped.filter((address) => isIpv6(address.host));
  return encode({
    added: compact(
      added4.map((peer) => peer.address),
      4,
    ),
    'added.f': Uint8Array.from(added4.map((peer) => peer.flags)),
    added6: compact(
      added6.map((peer) => peer.address),
      6,
    ),
    'added6.f': Uint8Array.from(added6.map((peer) => peer.flags)),
    dropped: compact(dropped4, 4),
    dropped6: compact(dropped6, 6),
  });
}

/** A literal IPv6 address (anything else goes to the IPv4 lists, where encoding rejects it). */
function isIpv6(host: string): boolean {
  return addressBytes(host)?.length === 16;
}

function compact(addresses: readonly PeerAddress[], family: 4 | 6): Uint8Array {
  const stride = family === 4 ? IPV4_ENTRY : IPV6_ENTRY;
  const out = new Uint8Array(addresses.length * stride);
  addresses.forEach((address, index) => {
    const bytes = addressBytes(address.host);
    if (bytes === undefined || bytes.length !== (family === 4 ? 4 : 16))
      throw new WireError(`cannot encode "${address.host}" as an IPv${family} PEX peer`);
    if (!Number.isInteger(address.port) || address.port < 1 || address.port > 0xffff) {
      throw new WireError(`cannot encode PEX port ${address.port}`);
    }
    const offset = index * stride;
    out.set(bytes, offset);
    out[offset + stride - 2] = address.port >> 8;
    out[offset + stride - 1] = address.port & 0xff;
  });
  return out;
}

/**
 * Decodes a received ut_pex payload. Missing lists read as empty; a flags string shorter than
 * its list leaves the remaining peers' flags 0 (longer: the extra bytes are ignored); each list
 * is read up to MAX_PEX_DECODED_ENTRIES entries. Entries are returned as sent (port 0 and
 * multicast included): which to use is the receiver's policy.
 *
 * Throws WireError when the message is malformed: not a bencoded dictionary, or a list whose
 * length is not a multiple of its entry size (6 or 18 bytes). The caller drops the message; like
 * the other extension messages, a malformed one is a light strike against the peer, not a ban.
 */
export function decodePexMessage(payload: Uint8Array): PexMessage {
  let value: BencodeValue;
  try {
    value = decode(payload, DECODE_LIMITS);
  } catch (error) {
    if (error instanceof BencodeError) throw new WireError(`malformed ut_pex message: ${error.message}`);
    throw error;
  }
  if (!isDict(value)) throw new WireError('ut_pex message is not a dictionary');
  const added: PexPeer[] = [];
  for (const [key, family] of [
    ['added', 4],
    ['added6', 6],
  ] as const) {
    const addresses = readList(getBytes(value, key), family, key);
    const flags = getBytes(value, `${key}.f`);
    addresses.forEach((address, index) => {
      added.push({ address, flags: flags?.[index] ?? 0 });
    });
  }
  const dropped = [
    ...readList(getBytes(value, 'dropped'), 4, 'dropped'),
    ...readList(getBytes(value, 'dropped6'), 6, 'dropped6'),
  ];
  return { added, dropped };
}

function readList(bytes: Uint8Array | undefined, family: 4 | 6, key: string): PeerAddress[] {
  if (bytes === undefined) return [];
  const stride = family === 4 ? IPV4_ENTRY : IPV6_ENTRY;
  if (bytes.length % stride !== 0) {
    throw new WireError(`ut_pex "${key}" of ${bytes.length} bytes is not a multiple of ${stride}`);
  }
  const count = Math.min(bytes.length / stride, MAX_PEX_DECODED_ENTRIES);
  const out: PeerAddress[] = [];
  for (let index = 0; index < count; index++) {
    const offset = index * stride;
    const port = (bytes[offset + stride - 2]! << 8) | bytes[offset + stride - 1]!;
    out.push({ host: formatIpBytes(bytes, offset, family), port });
  }
  return out;
}
