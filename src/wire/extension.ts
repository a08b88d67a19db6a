import type { BencodeValue, Encodable } from '../bencode/index.js';
import { decode, encode, getBytes, getDict, getInt, getText, isDict } from '../bencode/index.js';
import { BencodeError, WireError } from '../errors.js';

/** BEP 10: extended message id 0 is the extension handshake; other ids are chosen by the receiver. */
export const EXTENSION_HANDSHAKE_ID = 0;

/** Highest id an extension can have: the id is one byte. */
export const MAX_EXTENSION_ID = 255;

/**
 * The ids WE assign to the extensions we speak, sent in our handshake's `m` dictionary; a peer
 * uses them when it sends us those messages (we use the peer's ids when sending to it).
 * ut_pex = 1 and ut_metadata = 3 are what Transmission uses, so traces read alike.
 */
export const LOCAL_EXTENSION_IDS = { ut_pex: 1, ut_metadata: 3 } as const;

export interface ExtensionHandshake {
  /**
   * Extension name → the id the sender wants to receive it as. An id of 0 means the sender
   * disables that extension (meaningful in a later handshake); merging successive handshakes is
   * the caller's job.
   */
  m: Map<string, number>;
  /** Client name and version, e.g. "Lodestone 0.1.0" (see CLIENT_NAME in src/version.ts). */
  v?: string;
  /** The sender's listen port. */
  p?: number;
  /** How many outstanding requests the sender queues before dropping. */
  reqq?: number;
  /** Our address as the sender sees it: 4 (IPv4) or 16 (IPv6) bytes. */
  yourip?: Uint8Array;
  /** BEP 9: size of the info dictionary in bytes. */
  metadataSize?: number;
  /** The sender's own IPv4 address (4 bytes). */
  ipv4?: Uint8Array;
  /** The sender's own IPv6 address (16 bytes). */
  ipv6?: Uint8Array;
}

/** Bounds on the bencode of a received handshake: it is a flat dictionary in practice. */
const DECODE_LIMITS = { lenient: true, maxDepth: 8, maxItems: 10_000 } as const;

/**
 * The payload of an extended message with id 0 (a bencoded dictionary). The caller wraps it:
 * `encodeMessage({ type: 'extended', id: EXTENSION_HANDSHAKE_ID, payload })`.
 */
export function encodeExtensionHandshake(handshake: ExtensionHandshake): Buffer {
  for (const [name, id] of handshake.m) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_EXTENSION_ID) {
      throw new WireError(`cannot encode extension "${name}" with id ${id}: not 0..${MAX_EXTENSION_ID}`);
    }
  }
  const dict: Record<string, Encodable | undefined> = {
    m: handshake.m,
    v: handshake.v,
    p: handshake.p,
    reqq: handshake.reqq,
    yourip: handshake.yourip,
    metadata_size: handshake.metadataSize,
    ipv4: handshake.ipv4,
    ipv6: handshake.ipv6,
  };
  try {
    return encode(dict);
  } catch (error) {
    // Only a non-integer number gets here (e.g. p: 1.5): a caller bug, reported as a wire error.
    throw new WireError(`cannot encode extension handshake: ${(error as Error).message}`);
  }
}

/**
 * Decodes a received extension handshake, tolerantly: unknown keys are ignored, as are fields of
 * the wrong type or out of range (they read as absent) and extension ids outside 0..255.
 * Throws WireError only when the payload is not a bencoded dictionary. Byte fields are copied so
 * they never pin the receive buffer.
 */
export function decodeExtensionHandshake(payload: Uint8Array): ExtensionHandshake {
  let value: BencodeValue;
  try {
    value = decode(payload, DECODE_LIMITS);
  } catch (error) {
    if (error instanceof BencodeError) throw new WireError(`malformed extension handshake: ${error.message}`);
    throw error;
  }
  if (!isDict(value)) throw new WireError('extension handshake is not a dictionary');

  const m = new Map<string, number>();
  const mDict = getDict(value, 'm');
  if (mDict !== undefined) {
    for (const [name, id] of mDict) {
      if (typeof id === 'number' && id >= 0 && id <= MAX_EXTENSION_ID) m.set(name, id);
    }
  }
  const handshake: ExtensionHandshake = { m };
  const v = getText(value, 'v');
  if (v !== undefined) handshake.v = v;
  const p = getInt(value, 'p');
  if (p !== undefined && p > 0 && p <= 0xffff) handshake.p = p;
  const reqq = getInt(value, 'reqq');
  if (reqq !== undefined && reqq > 0) handshake.reqq = reqq;
  const metadataSize = getInt(value, 'metadata_size');
  if (metadataSize !== undefined && metadataSize >= 0) handshake.metadataSize = metadataSize;
  const yourip = getBytes(value, 'yourip');
  if (yourip !== undefined && (yourip.length === 4 || yourip.length === 16))
    handshake.yourip = new Uint8Array(yourip);
  const ipv4 = getBytes(value, 'ipv4');
  if (ipv4?.length === 4) handshake.ipv4 = new Uint8Array(ipv4);
  const ipv6 = getBytes(value, 'ipv6');
  if (ipv6?.length === 16) handshake.ipv6 = new Uint8Array(ipv6);
  return handshake;
}
