import type { BencodeValue } from '../bencode/index.js';
import { decodePrefix, encode, getInt, isDict } from '../bencode/index.js';
import { BencodeError, LodestoneError, WireError } from '../errors.js';

/** BEP 9: metadata (the info dictionary) is exchanged in 16 KiB pieces; only the last is shorter. */
export const METADATA_BLOCK_SIZE = 16384;

/**
 * Largest metadata we accept. libtorrent caps it at a few MiB (4 MiB by default); we allow 8 MiB,
 * which still bounds what a peer can make us buffer for one torrent.
 */
export const MAX_METADATA_SIZE = 8 * 1024 * 1024;

/** Pieces in metadata of the largest accepted size: any higher piece number is invalid. */
export const MAX_METADATA_PIECES = MAX_METADATA_SIZE / METADATA_BLOCK_SIZE;

const MSG_TYPE = { request: 0, data: 1, reject: 2 } as const;

export type MetadataMessage =
  | { msgType: 'request'; piece: number }
  /** `data` is a view into the payload; copy it if the payload's buffer may be reused. */
  | { msgType: 'data'; piece: number; totalSize: number; data: Uint8Array }
  | { msgType: 'reject'; piece: number }
  /** A msg_type this version does not know; BEP 9 says to ignore it, so it is not an error. */
  | { msgType: 'unknown'; code: number };

/** The dictionary is three integers in practice; these limits only stop abuse. */
const DECODE_LIMITS = { lenient: true, maxDepth: 4, maxItems: 1000 } as const;

/**
 * The payload of an extended message carrying ut_metadata (to be sent with the PEER's id for
 * ut_metadata): a bencoded dictionary, followed for `data` by the raw metadata piece.
 */
export function encodeMetadataMessage(message: MetadataMessage): Buffer {
  switch (message.msgType) {
    case 'request':
    case 'reject':
      return encode({ msg_type: MSG_TYPE[message.msgType], piece: checkPiece(message.piece) });
    case 'data': {
      if (message.data.length > METADATA_BLOCK_SIZE) {
        throw new WireError(`metadata piece of ${message.data.length} bytes exceeds ${METADATA_BLOCK_SIZE}`);
      }
      if (!Number.isSafeInteger(message.totalSize) || message.totalSize < 0) {
        throw new WireError(`cannot encode metadata total size ${message.totalSize}`);
      }
      const dict = encode({
        msg_type: MSG_TYPE.data,
        piece: checkPiece(message.piece),
        total_size: message.totalSize,
      });
      return Buffer.concat([dict, message.data]);
    }
    case 'unknown':
      if (!Number.isSafeInteger(message.code)) throw new WireError(`cannot encode msg_type ${message.code}`);
      return encode({ msg_type: message.code });
  }
}

function checkPiece(piece: number): number {
  if (!Number.isInteger(piece) || piece < 0 || piece >= MAX_METADATA_PIECES) {
    throw new WireError(`metadata piece ${piece} out of range 0..${MAX_METADATA_PIECES - 1}`);
  }
  return piece;
}

/**
 * Decodes a ut_metadata payload: a dictionary, then (for `data`) the raw piece bytes. Throws
 * WireError when it is malformed: not a dictionary, missing or invalid `piece`/`total_size`, bytes
 * after a request or reject, or a data piece over 16 KiB. Whether the data length matches the
 * metadata size (see expectedMetadataBlockLength) is for the caller, who knows that size.
 */
export function decodeMetadataMessage(payload: Uint8Array): MetadataMessage {
  let decoded: { value: BencodeValue; end: number };
  try {
    decoded = decodePrefix(payload, DECODE_LIMITS);
  } catch (error) {
    if (error instanceof BencodeError) throw new WireError(`malformed ut_metadata message: ${error.message}`);
    throw error;
  }
  const dict = decoded.value;
  if (!isDict(dict)) throw new WireError('ut_metadata message is not a dictionary');
  const code = getInt(dict, 'msg_type');
  if (code === undefined) throw new WireError('ut_metadata message without an integer msg_type');
  const trailing = payload.subarray(decoded.end);

  if (code === MSG_TYPE.request || code === MSG_TYPE.reject) {
    const piece = readPiece(getInt(dict, 'piece'));
    if (trailing.length > 0)
      throw new WireError(`${trailing.length} stray bytes after a ut_metadata message`);
    return code === MSG_TYPE.request ? { msgType: 'request', piece } : { msgType: 'reject', piece };
  }
  if (code === MSG_TYPE.data) {
    const piece = readPiece(getInt(dict, 'piece'));
    const totalSize = getInt(dict, 'total_size');
    if (totalSize === undefined || totalSize < 0) {
      throw new WireError('ut_metadata data message without a valid total_size');
    }
    if (trailing.length > METADATA_BLOCK_SIZE) {
      throw new WireError(`ut_metadata data of ${trailing.length} bytes exceeds ${METADATA_BLOCK_SIZE}`);
    }
    return { msgType: 'data', piece, totalSize, data: trailing };
  }
  return { msgType: 'unknown', code };
}

function readPiece(piece: number | undefined): number {
  if (piece === undefined) throw new WireError('ut_metadata message without an integer piece');
  if (piece < 0 || piece >= MAX_METADATA_PIECES) {
    throw new WireError(`ut_metadata piece ${piece} out of range 0..${MAX_METADATA_PIECES - 1}`);
  }
  return piece;
}

/** Throws LodestoneError LODESTONE_ERR_METADATA unless 0 < size <= MAX_METADATA_SIZE. */
export function validateMetadataSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new LodestoneError('LODESTONE_ERR_METADATA', `invalid metadata size ${size}`);
  }
  if (size > MAX_METADATA_SIZE) {
    throw new LodestoneError(
      'LODESTONE_ERR_METADATA',
      `metadata size ${size} exceeds the maximum of ${MAX_METADATA_SIZE} bytes`,
    );
  }
}

/** Number of 16 KiB pieces for metadata of `size` bytes (validated as by validateMetadataSize). */
export function metadataPieceCount(size: number): number {
  validateMetadataSize(size);
  return Math.ceil(size / METADATA_BLOCK_SIZE);
}

/**
 * The exact length the `data` of `piece` must have for metadata of `size` bytes: 16 KiB except
 * for the last piece. Throws LODESTONE_ERR_METADATA for an invalid size or a piece past the end.
 */
export function expectedMetadataBlockLength(size: number, piece: number): number {
  const count = metadataPieceCount(size);
  if (!Number.isInteger(piece) || piece < 0 || piece >= count) {
    throw new LodestoneError(
      'LODESTONE_ERR_METADATA',
      `metadata piece ${piece} out of range for ${size} bytes (${count} pieces)`,
    );
  }
  return Math.min(METADATA_BLOCK_SIZE, size - piece * METADATA_BLOCK_SIZE);
}
