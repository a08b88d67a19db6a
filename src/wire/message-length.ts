import { WireError } from '../errors.js';
import { MessageId } from './types.js';

/**
 * Largest block we accept in a `piece` message. We only ever request 16 KiB blocks, but old
 * clients honour (and some send) up to 128 KiB; anything larger is hostile.
 */
export const MAX_PIECE_BLOCK_LENGTH = 128 * 1024;

/** id + index + begin: the bytes of a `piece` message body before the block. */
export const PIECE_BODY_HEADER_LENGTH = 9;

/**
 * Longest message (the length prefix's value: id + payload) accepted once the piece count is known
 * and the bitfield is small: a `piece` message carrying the largest block we accept. ut_metadata
 * `data` messages (16 KiB + a small dictionary) and extension handshakes fit well within it.
 */
export const DEFAULT_MAX_MESSAGE_LENGTH = PIECE_BODY_HEADER_LENGTH + MAX_PIECE_BLOCK_LENGTH;

/**
 * Longest message accepted while the piece count is unknown (a magnet link before its metadata):
 * a peer's bitfield may then be of any size, so we allow one for up to 8 Mi pieces.
 */
export const UNKNOWN_PIECE_COUNT_MAX_MESSAGE_LENGTH = 1 + 1024 * 1024;

/** Length prefix value of a bitfield message for `pieceCount` pieces. */
export function bitfieldMessageLength(pieceCount: number): number {
  return 1 + Math.ceil(pieceCount / 8);
}

/**
 * The default bound on a message's length: room for the largest `piece` message and, when the
 * piece count is known, for the bitfield; without a piece count, room for a 1 MiB bitfield.
 */
export function maxMessageLengthFor(pieceCount?: number): number {
  if (pieceCount === undefined) return UNKNOWN_PIECE_COUNT_MAX_MESSAGE_LENGTH;
  return Math.max(DEFAULT_MAX_MESSAGE_LENGTH, bitfieldMessageLength(pieceCount));
}

const MESSAGE_NAMES = new Map<number, string>([
  [MessageId.choke, 'choke'],
  [MessageId.unchoke, 'unchoke'],
  [MessageId.interested, 'interested'],
  [MessageId.notInterested, 'not-interested'],
  [MessageId.have, 'have'],
  [MessageId.bitfield, 'bitfield'],
  [MessageId.request, 'request'],
  [MessageId.piece, 'piece'],
  [MessageId.cancel, 'cancel'],
  [MessageId.port, 'port'],
  [MessageId.suggest, 'suggest'],
  [MessageId.haveAll, 'have-all'],
  [MessageId.haveNone, 'have-none'],
  [MessageId.reject, 'reject'],
  [MessageId.allowedFast, 'allowed-fast'],
  [MessageId.extended, 'extended'],
]);

/** Whether `id` is a message type this codec decodes (others come out as `unknown`). */
export function isKnownMessageId(id: number): boolean {
  return MESSAGE_NAMES.has(id);
}

/**
 * Checks a message's length prefix against what its type allows, from the 5-byte header alone,
 * so a bad message is rejected before its payload is buffered. Unknown ids pass (their payload is
 * skipped, bounded only by the decoder's maximum). With a known piece count the bitfield length
 * must be exact (BEP 3: a wrongly sized bitfield is an error).
 */
export function checkMessageLength(id: number, length: number, pieceCount?: number): void {
  const range = allowedLength(id, pieceCount);
  if (range === undefined) return;
  const [minimum, maximum] = range;
  if (length > maximum) {
    throw new WireError(
      `${MESSAGE_NAMES.get(id)}: message longer than its type allows (length ${length}, at most ${maximum})`,
    );
  }
  if (length < minimum) {
    throw new WireError(
      `${MESSAGE_NAMES.get(id)}: message shorter than its type requires (length ${length}, at least ${minimum})`,
    );
  }
}

/** [minimum, maximum] length prefix for a message id; undefined for unknown ids. */
function allowedLength(id: number, pieceCount: number | undefined): readonly [number, number] | undefined {
  switch (id) {
    case MessageId.choke:
    case MessageId.unchoke:
    case MessageId.interested:
    case MessageId.notInterested:
    case MessageId.haveAll:
    case MessageId.haveNone:
      return ID_ONLY;
    case MessageId.have:
    case MessageId.suggest:
    case MessageId.allowedFast:
      return WITH_INDEX;
    case MessageId.request:
    case MessageId.cancel:
    case MessageId.reject:
      return WITH_BLOCK_REF;
    case MessageId.port:
      return WITH_PORT;
    case MessageId.bitfield:
      if (pieceCount === undefined) return ANY_BITFIELD;
      return [bitfieldMessageLength(pieceCount), bitfieldMessageLength(pieceCount)];
    case MessageId.piece:
      return PIECE;
    case MessageId.extended:
      return EXTENDED;
    default:
      return undefined;
  }
}

const ID_ONLY = [1, 1] as const;
const WITH_INDEX = [5, 5] as const;
const WITH_BLOCK_REF = [13, 13] as const;
const WITH_PORT = [3, 3] as const;
const ANY_BITFIELD = [1, Number.POSITIVE_INFINITY] as const;
const PIECE = [PIECE_BODY_HEADER_LENGTH, DEFAULT_MAX_MESSAGE_LENGTH] as const;
/** id byte + extension id byte; the payload may be empty. */
const EXTENDED = [2, Number.POSITIVE_INFINITY] as const;
