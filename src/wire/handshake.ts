import { randomBytes } from 'node:crypto';
import { LodestoneError, WireError } from '../errors.js';
import { PEER_ID_PREFIX } from '../version.js';
import type { Handshake } from './types.js';

/** BEP 3: `<pstrlen=19><pstr><8 reserved><20 info-hash><20 peer id>`. */
export const PROTOCOL_STRING = 'BitTorrent protocol';
const PROTOCOL_BYTES = Buffer.from(PROTOCOL_STRING, 'latin1');
const PSTRLEN = PROTOCOL_BYTES.length; // 19

const RESERVED_OFFSET = 1 + PSTRLEN; // 20
export const RESERVED_LENGTH = 8;
const INFO_HASH_OFFSET = RESERVED_OFFSET + RESERVED_LENGTH; // 28
export const INFO_HASH_LENGTH = 20;
const PEER_ID_OFFSET = INFO_HASH_OFFSET + INFO_HASH_LENGTH; // 48
export const PEER_ID_LENGTH = 20;

/** 68 bytes. */
export const HANDSHAKE_LENGTH = PEER_ID_OFFSET + PEER_ID_LENGTH;

/**
 * Bytes before the peer id. An inbound connection knows which torrent the peer wants once it has
 * these, which is when a listener routes it.
 */
export const HANDSHAKE_PREFIX_LENGTH = PEER_ID_OFFSET;

// Reserved-bit positions, as [byte index, mask].
const EXTENSION_PROTOCOL_BIT = [5, 0x10] as const; // BEP 10: bit 20 from the right
const FAST_EXTENSION_BIT = [7, 0x04] as const; // BEP 6
const DHT_BIT = [7, 0x01] as const; // BEP 5

export function encodeHandshake(handshake: Handshake): Buffer {
  checkLength(handshake.reserved, RESERVED_LENGTH, 'reserved bytes');
  checkLength(handshake.infoHash, INFO_HASH_LENGTH, 'info-hash');
  checkLength(handshake.peerId, PEER_ID_LENGTH, 'peer id');
  const out = Buffer.allocUnsafe(HANDSHAKE_LENGTH);
  out[0] = PSTRLEN;
  out.set(PROTOCOL_BYTES, 1);
  out.set(handshake.reserved, RESERVED_OFFSET);
  out.set(handshake.infoHash, INFO_HASH_OFFSET);
  out.set(handshake.peerId, PEER_ID_OFFSET);
  return out;
}

function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new WireError(`handshake ${what} must be ${expected} bytes, got ${bytes.length}`);
  }
}

/**
 * Throws as soon as the bytes received so far cannot start a BitTorrent handshake, so a
 * connection can drop a peer that speaks another protocol without waiting for 68 bytes.
 * Accepts any length (including an incomplete prefix).
 */
export function checkHandshakePrefix(bytes: Uint8Array): void {
  if (bytes.length === 0) return;
  if (bytes[0] !== PSTRLEN) throw new WireError(`handshake protocol length ${bytes[0]}, expected ${PSTRLEN}`);
  const end = Math.min(bytes.length, RESERVED_OFFSET);
  for (let i = 1; i < end; i++) {
    if (bytes[i] !== PROTOCOL_BYTES[i - 1])
      throw new WireError('handshake protocol is not "BitTorrent protocol"');
  }
}

/**
 * Decodes the handshake in the first 68 bytes of `bytes`; anything after it (the first messages,
 * often in the same TCP segment) is the caller's to hand to a MessageDecoder. The returned fields
 * are copies, so they never pin the receive buffer.
 */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  if (bytes.length < HANDSHAKE_LENGTH) {
    checkHandshakePrefix(bytes);
    throw new WireError(`handshake of ${bytes.length} bytes, expected ${HANDSHAKE_LENGTH}`);
  }
  checkHandshakePrefix(bytes);
  return {
    // Buffer.from(view) copies (Buffer#slice would not).
    reserved: Buffer.from(bytes.subarray(RESERVED_OFFSET, INFO_HASH_OFFSET)),
    infoHash: Buffer.from(bytes.subarray(INFO_HASH_OFFSET, PEER_ID_OFFSET)),
    peerId: Buffer.from(bytes.subarray(PEER_ID_OFFSET, HANDSHAKE_LENGTH)),
  };
}

export interface ReservedFeatures {
  /** BEP 10 extension protocol. @default false */
  extensionProtocol?: boolean;
  /** BEP 6 fast extension. @default false */
  fastExtension?: boolean;
  /** BEP 5 DHT (the peer will send a `port` message). @default false */
  dht?: boolean;
}

/** The 8 reserved handshake bytes announcing the given features. */
export function reservedBits(features: ReservedFeatures): Uint8Array {
  const reserved = new Uint8Array(RESERVED_LENGTH);
  if (features.extensionProtocol) reserved[EXTENSION_PROTOCOL_BIT[0]]! |= EXTENSION_PROTOCOL_BIT[1];
  if (features.fastExtension) reserved[FAST_EXTENSION_BIT[0]]! |= FAST_EXTENSION_BIT[1];
  if (features.dht) reserved[DHT_BIT[0]]! |= DHT_BIT[1];
  return reserved;
}

function hasBit(reserved: Uint8Array, [byte, mask]: readonly [number, number]): boolean {
  return ((reserved[byte] ?? 0) & mask) !== 0;
}

export function supportsExtensionProtocol(reserved: Uint8Array): boolean {
  return hasBit(reserved, EXTENSION_PROTOCOL_BIT);
}

export function supportsFastExtension(reserved: Uint8Array): boolean {
  return hasBit(reserved, FAST_EXTENSION_BIT);
}

export function supportsDht(reserved: Uint8Array): boolean {
  return hasBit(reserved, DHT_BIT);
}

// Printable, URL-safe and unambiguous in logs; 64 symbols so a random byte maps without bias.
const PEER_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A 20-byte peer id: `prefix` (Azureus style, `-LS0100-` = Lodestone 0.1.0) followed by random
 * printable characters.
 */
export function generatePeerId(prefix = PEER_ID_PREFIX): Buffer {
  const prefixBytes = Buffer.from(prefix, 'latin1');
  if (prefixBytes.length > PEER_ID_LENGTH || [...prefix].some((c) => c.charCodeAt(0) > 0xff)) {
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      `peer id prefix "${prefix}" is not 20 latin1 bytes or fewer`,
    );
  }
  const out = Buffer.allocUnsafe(PEER_ID_LENGTH);
  prefixBytes.copy(out, 0);
  const random = randomBytes(PEER_ID_LENGTH - prefixBytes.length);
  for (let i = 0; i < random.length; i++) {
    out[prefixBytes.length + i] = PEER_ID_ALPHABET.charCodeAt(random[i]! & 63);
  }
  return out;
}
