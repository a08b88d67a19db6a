/** Message ids, grouped by the BEP that defines them. */
export const MessageId = {
  // BEP 3
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  // BEP 5 (DHT)
  port: 9,
  // BEP 6 (fast extension)
  suggest: 13,
  haveAll: 14,
  haveNone: 15,
  reject: 16,
  allowedFast: 17,
  // BEP 10 (extension protocol)
  extended: 20,
} as const;

/**
 * One peer-wire message, decoded (`MessageDecoder`) or to encode (`encodeMessage`); `type` tells
 * them apart. `index` is a piece index, `begin` a byte offset inside the piece, `length` a block
 * length in bytes; `bits` is a bitfield's raw bytes, `block` a piece message's data.
 */
export type Message =
  | { type: 'keep-alive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have'; index: number }
  | { type: 'bitfield'; bits: Uint8Array }
  | { type: 'request'; index: number; begin: number; length: number }
  | { type: 'piece'; index: number; begin: number; block: Uint8Array }
  | { type: 'cancel'; index: number; begin: number; length: number }
  | { type: 'port'; port: number }
  | { type: 'suggest'; index: number }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | { type: 'reject'; index: number; begin: number; length: number }
  | { type: 'allowed-fast'; index: number }
  | { type: 'extended'; id: number; payload: Uint8Array }
  /** An id we do not know: skipped, never fatal (BEP 3). */
  | { type: 'unknown'; id: number; length: number };

/** The `type` of a {@link Message}. */
export type MessageType = Message['type'];

/** The BEP 3 handshake that opens every peer connection. */
export interface Handshake {
  /** 8 reserved bytes: bit 20 (byte 5, 0x10) = BEP 10, byte 7 0x04 = BEP 6, byte 7 0x01 = BEP 5. */
  reserved: Uint8Array;
  /** The torrent's 20-byte info-hash. */
  infoHash: Uint8Array;
  /** The sender's 20-byte peer id. */
  peerId: Uint8Array;
}

/** The block size we request: 16 KiB (smaller only at a piece's end). */
export const BLOCK_SIZE = 16 * 1024;
/** Largest block a peer may request from us or send us (BEP 3 practice; libtorrent rejects larger). */
export const MAX_BLOCK_SIZE = 16 * 1024;
