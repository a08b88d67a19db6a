/**
 * The uTP packet codec (BEP 29): a 20-byte header, an extension chain, a payload.
 * Pure: bytes in, a typed result out. `decodeUtpPacket` never throws, whatever
 * the bytes; a bad datagram yields `{ ok: false, reason }` and is dropped.
 *
 * Header, big-endian:
 *   0: type (high nibble) | version (low nibble, always 1)
 *   1: first extension type (0 = none)
 *   2: connection id (u16)      4: timestamp µs (u32)   8: timestamp difference µs (u32)
 *   12: window size (u32)       16: seq_nr (u16)        18: ack_nr (u16)
 * Each extension: next extension type (u8), length (u8), `length` bytes.
 */

export const UTP_VERSION = 1;
export const UTP_HEADER_SIZE = 20;

/** The five packet types, by their wire number. */
export const UTP_TYPES = ['data', 'fin', 'state', 'reset', 'syn'] as const;
export type UtpPacketType = (typeof UTP_TYPES)[number];

/** Extension 1 (BEP 29): selective ACK. */
export const EXTENSION_SACK = 1;
/**
 * The longest selective-ACK bitmask we emit (BEP 29 asks for a multiple of 4 bytes).
 * On input any length the length byte can carry (≤ 255) is accepted, because
 * libtorrent emits `ceil(span / 8)` bytes, not rounded to 4; only the bits that
 * cover packets in flight are ever looked at.
 */
export const MAX_SACK_BYTES = 32;
/** More extensions than this in one packet is garbage (each costs work, none is useful). */
export const MAX_EXTENSIONS = 8;

export interface UtpPacket {
  type: UtpPacketType;
  connectionId: number;
  /** Sender's clock, microseconds modulo 2^32. */
  timestamp: number;
  /** Sender's measure of the one-way delay of our last packet, microseconds modulo 2^32. */
  timestampDiff: number;
  /** Bytes the sender can still receive. */
  windowSize: number;
  seq: number;
  ack: number;
  /** Selective ACK bitmask: bit i (LSB first in each byte) is packet ack + 2 + i. */
  sack?: Uint8Array | undefined;
  payload: Uint8Array;
}

export type UtpDecodeFailure =
  | 'short'
  | 'version'
  | 'type'
  | 'extension-truncated'
  | 'too-many-extensions'
  | 'sack-empty';

export type UtpDecodeResult = { ok: true; packet: UtpPacket } | { ok: false; reason: UtpDecodeFailure };

/** True when the first byte looks like uTP (version 1, type ≤ 4): the UDP demultiplexer's test. */
export function looksLikeUtp(datagram: Uint8Array): boolean {
  if (datagram.length < UTP_HEADER_SIZE) return false;
  const first = datagram[0]!;
  return (first & 0x0f) === UTP_VERSION && first >> 4 < UTP_TYPES.length;
}

function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Decodes one datagram. The payload is a view into `datagram` (no copy). */
export function decodeUtpPacket(datagram: Uint8Array): UtpDecodeResult {
  if (datagram.length < UTP_HEADER_SIZE) return { ok: false, reason: 'short' };
  const first = datagram[0]!;
  if ((first & 0x0f) !== UTP_VERSION) return { ok: false, reason: 'version' };
  const type = UTP_TYPES[first >> 4];
  if (type === undefined) return { ok: false, reason: 'type' };
  let extension = datagram[1]!;
  let at = UTP_HEADER_SIZE;
  let sack: Uint8Array | undefined;
  let count = 0;
  while (extension !== 0) {
    if (++count > MAX_EXTENSIONS) return { ok: false, reason: 'too-many-extensions' };
    if (at + 2 > datagram.length) return { ok: false, reason: 'extension-truncated' };
    const next = datagram[at]!;
    const length = datagram[at + 1]!;
    at += 2;
    if (at + length > datagram.length) return { ok: false, reason: 'extension-truncated' };
    if (extension === EXTENSION_SACK) {
      if (length === 0) return { ok: false, reason: 'sack-empty' };
      // The first SACK extension counts; a repeated one is skipped like an unknown one.
      sack ??= datagram.subarray(at, at + length);
    }
    at += length;
    extension = next;
  }
  return {
    ok: true,
    packet: {
      type,
      connectionId: u16(datagram, 2),
      timestamp: u32(datagram, 4),
      timestampDiff: u32(datagram, 8),
      windowSize: u32(datagram, 12),
      seq: u16(datagram, 16),
      ack: u16(datagram, 18),
      sack,
      payload: datagram.subarray(at),
    },
  };
}

/** Encodes a packet into one new buffer (header, optional SACK extension, payload). */
export function encodeUtpPacket(packet: UtpPacket): Buffer {
  const sackLength = packet.sack?.length ?? 0;
  if (sackLength > 255) throw new RangeError(`a SACK bitmask of ${sackLength} bytes does not fit`);
  const extensionSize = sackLength > 0 ? 2 + sackLength : 0;
  const out = Buffer.allocUnsafe(UTP_HEADER_SIZE + extensionSize + packet.payload.length);
  out[0] = (UTP_TYPES.indexOf(packet.type) << 4) | UTP_VERSION;
  out[1] = sackLength > 0 ? EXTENSION_SACK : 0;
  out.writeUInt16BE(packet.connectionId & 0xffff, 2);
  out.writeUInt32BE(packet.timestamp >>> 0, 4);
  out.writeUInt32BE(packet.timestampDiff >>> 0, 8);
  out.writeUInt32BE(packet.windowSize >>> 0, 12);
  out.writeUInt16BE(packet.seq & 0xffff, 16);
  out.writeUInt16BE(packet.ack & 0xffff, 18);
  let at = UTP_HEADER_SIZE;
  if (sackLength > 0) {
    out[at] = 0;
    out[at + 1] = sackLength;
    out.set(packet.sack!, at + 2);
    at += extensionSize;
  }
  out.set(packet.payload, at);
  return out;
}

/** `a - b` on 16-bit sequence numbers, as a signed distance in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - 0x10000 : d;
}
