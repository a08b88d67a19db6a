import { WireError } from '../errors.js';
import { PIECE_BODY_HEADER_LENGTH } from './message-length.js';
import { type Message, MessageId } from './types.js';

export { MessageDecoder, type MessageDecoderOptions } from './message-decoder.js';

const LENGTH_PREFIX = 4;
/** Length prefix + id + index + begin. */
export const PIECE_HEADER_LENGTH = LENGTH_PREFIX + PIECE_BODY_HEADER_LENGTH;

/**
 * Encodes one message with its 4-byte length prefix (keep-alive is just the prefix, 0).
 * A `piece` message's block is copied into the result; to send a block without that copy, write
 * `encodePieceHeader(...)` and then the block itself (between `socket.cork()` and `uncork()`).
 * An `unknown` message is encoded with `length - 1` zero payload bytes (mainly for tests).
 */
export function encodeMessage(message: Message): Buffer {
  switch (message.type) {
    case 'keep-alive':
      return Buffer.alloc(LENGTH_PREFIX);
    case 'choke':
      return idOnly(MessageId.choke);
    case 'unchoke':
      return idOnly(MessageId.unchoke);
    case 'interested':
      return idOnly(MessageId.interested);
    case 'not-interested':
      return idOnly(MessageId.notInterested);
    case 'have-all':
      return idOnly(MessageId.haveAll);
    case 'have-none':
      return idOnly(MessageId.haveNone);
    case 'have':
      return withIndex(MessageId.have, message.index);
    case 'suggest':
      return withIndex(MessageId.suggest, message.index);
    case 'allowed-fast':
      return withIndex(MessageId.allowedFast, message.index);
    case 'request':
      return withBlockRef(MessageId.request, message.index, message.begin, message.length);
    case 'cancel':
      return withBlockRef(MessageId.cancel, message.index, message.begin, message.length);
    case 'reject':
      return withBlockRef(MessageId.reject, message.index, message.begin, message.length);
    case 'bitfield': {
      const out = header(1 + message.bits.length, MessageId.bitfield);
      out.set(message.bits, LENGTH_PREFIX + 1);
      return out;
    }
    case 'piece': {
      const out = Buffer.allocUnsafe(PIECE_HEADER_LENGTH + message.block.length);
      writePieceHeader(out, message.index, message.begin, message.block.length);
      out.set(message.block, PIECE_HEADER_LENGTH);
      return out;
    }
    case 'port': {
      if (!Number.isInteger(message.port) || message.port < 0 || message.port > 0xffff) {
        throw new WireError(`cannot encode port ${message.port}`);
      }
      const out = header(3, MessageId.port);
      out.writeUInt16BE(message.port, LENGTH_PREFIX + 1);
      return out;
    }
    case 'extended': {
      checkByte(message.id, 'extended message id');
      const out = header(2 + message.payload.length, MessageId.extended);
      out[LENGTH_PREFIX + 1] = message.id;
      out.set(message.payload, LENGTH_PREFIX + 2);
      return out;
    }
    case 'unknown': {
      checkByte(message.id, 'message id');
      if (message.length < 1) throw new WireError(`cannot encode message length ${message.length}`);
      const out = header(message.length, message.id);
      out.fill(0, LENGTH_PREFIX + 1);
      return out;
    }
  }
}

/**
 * `have` messages for several pieces back to back in one buffer, so a burst of
 * verified pieces costs one socket write.
 */
export function encodeHaves(indexes: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(indexes.length * INDEX_MESSAGE_LENGTH);
  for (let i = 0; i < indexes.length; i++) {
    writeIndexMessage(out, i * INDEX_MESSAGE_LENGTH, MessageId.have, indexes[i]!);
  }
  return out;
}

/** `request` messages for several blocks back to back in one buffer (one socket write per batch). */
export function encodeRequests(
  requests: readonly { index: number; begin: number; length: number }[],
): Buffer {
  const out = Buffer.allocUnsafe(requests.length * BLOCK_REF_MESSAGE_LENGTH);
  for (let i = 0; i < requests.length; i++) {
    const { index, begin, length } = requests[i]!;
    writeBlockRefMessage(out, i * BLOCK_REF_MESSAGE_LENGTH, MessageId.request, index, begin, length);
  }
  return out;
}

/**
 * The 13 bytes that precede a block in a `piece` message (length prefix, id, index, begin), so a
 * sender can write the header and then the block buffer it already holds, copying nothing.
 */
export function encodePieceHeader(index: number, begin: number, blockLength: number): Buffer {
  const out = Buffer.allocUnsafe(PIECE_HEADER_LENGTH);
  writePieceHeader(out, index, begin, blockLength);
  return out;
}

function writePieceHeader(out: Buffer, index: number, begin: number, blockLength: number): void {
  out.writeUInt32BE(checkUint32(PIECE_BODY_HEADER_LENGTH + blockLength, 'message length'), 0);
  out[LENGTH_PREFIX] = MessageId.piece;
  out.writeUInt32BE(checkUint32(index, 'piece index'), LENGTH_PREFIX + 1);
  out.writeUInt32BE(checkUint32(begin, 'block offset'), LENGTH_PREFIX + 5);
}

/** A buffer of 4 + `length` bytes with the prefix and id written; the payload is left to the caller. */
function header(length: number, id: number): Buffer {
  const out = Buffer.allocUnsafe(LENGTH_PREFIX + length);
  out.writeUInt32BE(checkUint32(length, 'message length'), 0);
  out[LENGTH_PREFIX] = id;
  return out;
}

function idOnly(id: number): Buffer {
  return header(1, id);
}

/** Prefix + id + a piece index (have, suggest, allowed-fast). */
const INDEX_MESSAGE_LENGTH = LENGTH_PREFIX + 5;
/** Prefix + id + index, begin, length (request, cancel, reject). */
const BLOCK_REF_MESSAGE_LENGTH = LENGTH_PREFIX + 13;

function withIndex(id: number, index: number): Buffer {
  const out = Buffer.allocUnsafe(INDEX_MESSAGE_LENGTH);
  writeIndexMessage(out, 0, id, index);
  return out;
}

function withBlockRef(id: number, index: number, begin: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(BLOCK_REF_MESSAGE_LENGTH);
  writeBlockRefMessage(out, 0, id, index, begin, length);
  return out;
}

function writeIndexMessage(out: Buffer, at: number, id: number, index: number): void {
  out.writeUInt32BE(5, at);
  out[at + LENGTH_PREFIX] = id;
  out.writeUInt32BE(checkUint32(index, 'piece index'), at + LENGTH_PREFIX + 1);
}

function writeBlockRefMessage(
  out: Buffer,
  at: number,
  id: number,
  index: number,
  begin: number,
  length: number,
): void {
  out.writeUInt32BE(13, at);
  out[at + LENGTH_PREFIX] = id;
  out.writeUInt32BE(checkUint32(index, 'piece index'), at + LENGTH_PREFIX + 1);
  out.writeUInt32BE(checkUint32(begin, 'block offset'), at + LENGTH_PREFIX + 5);
  out.writeUInt32BE(checkUint32(length, 'block length'), at + LENGTH_PREFIX + 9);
}

function checkUint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new WireError(`cannot encode ${what} ${value}: not a 32-bit unsigned integer`);
  }
  return value;
}

function checkByte(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new WireError(`cannot encode ${what} ${value}: not a byte`);
  }
}
