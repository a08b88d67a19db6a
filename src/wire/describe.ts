import { supportsDht, supportsExtensionProtocol, supportsFastExtension } from './handshake.js';
import type { Handshake, Message } from './types.js';

// Set bits per byte value, for counting the pieces a bitfield announces.
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/**
 * One line for `--trace`, in the spirit of Wireshark's BitTorrent dissector, e.g.
 * `request index=12 begin=16384 length=16384` or `bitfield 1203/1300 pieces`.
 * `pieceCount`, when known, lets a bitfield be reported as pieces rather than bytes.
 */
export function describeMessage(message: Message, pieceCount?: number): string {
  switch (message.type) {
    case 'keep-alive':
    case 'choke':
    case 'unchoke':
    case 'interested':
    case 'not-interested':
    case 'have-all':
    case 'have-none':
      return message.type;
    case 'have':
    case 'suggest':
    case 'allowed-fast':
      return `${message.type} index=${message.index}`;
    case 'request':
    case 'cancel':
    case 'reject':
      return `${message.type} index=${message.index} begin=${message.begin} length=${message.length}`;
    case 'piece':
      return `piece index=${message.index} begin=${message.begin} length=${message.block.length}`;
    case 'bitfield':
      return describeBitfield(message.bits, pieceCount);
    case 'port':
      return `port ${message.port}`;
    case 'extended': {
      const what = message.id === 0 ? ' handshake' : '';
      return `extended id=${message.id}${what} (${message.payload.length} bytes)`;
    }
    case 'unknown':
      return `unknown id=${message.id} (length ${message.length})`;
  }
}

function describeBitfield(bits: Uint8Array, pieceCount: number | undefined): string {
  const size = pieceCount !== undefined && pieceCount <= bits.length * 8 ? pieceCount : undefined;
  let have = 0;
  const fullBytes = size === undefined ? bits.length : size >> 3;
  for (let i = 0; i < fullBytes; i++) have += POPCOUNT[bits[i]!]!;
  if (size === undefined) return `bitfield ${have} set of ${bits.length * 8} bits (${bits.length} bytes)`;
  const spare = size & 7;
  if (spare > 0) have += POPCOUNT[(bits[fullBytes] ?? 0) >> (8 - spare)]!;
  return `bitfield ${have}/${size} pieces`;
}

/**
 * `handshake info_hash=<hex> peer_id=<printable> reserved=<hex> [extension-protocol fast dht]`;
 * non-printable peer-id bytes are shown as `\xNN`.
 */
export function describeHandshake(handshake: Handshake): string {
  const flags: string[] = [];
  if (supportsExtensionProtocol(handshake.reserved)) flags.push('extension-protocol');
  if (supportsFastExtension(handshake.reserved)) flags.push('fast');
  if (supportsDht(handshake.reserved)) flags.push('dht');
  const features = flags.length > 0 ? ` [${flags.join(' ')}]` : '';
  return (
    `handshake info_hash=${hex(handshake.infoHash)} peer_id=${printable(handshake.peerId)} ` +
    `reserved=${hex(handshake.reserved)}${features}`
  );
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Printable ASCII as is (backslash escaped), anything else as \xNN, so a line stays one line. */
export function printable(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
