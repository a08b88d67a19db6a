/**
 * `lodestone/wire`: The peer wire protocol as pure codecs: handshake, messages with per-type
 * length limits, BEP 10 extension handshake, BEP 9 `ut_metadata`, BEP 11 `ut_pex`.
 *
 * @module lodestone/wire
 */
export { BufferPool, DECODER_BUFFER_SIZE, sharedDecoderPool } from './buffer-pool.js';
export { describeHandshake, describeMessage, printable } from './describe.js';
export {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  type ExtensionHandshake,
  encodeExtensionHandshake,
  LOCAL_EXTENSION_IDS,
  MAX_EXTENSION_ID,
} from './extension.js';
export {
  checkHandshakePrefix,
  decodeHandshake,
  encodeHandshake,
  generatePeerId,
  HANDSHAKE_LENGTH,
  HANDSHAKE_PREFIX_LENGTH,
  INFO_HASH_LENGTH,
  PEER_ID_LENGTH,
  PROTOCOL_STRING,
  RESERVED_LENGTH,
  type ReservedFeatures,
  reservedBits,
  supportsDht,
  supportsExtensionProtocol,
  supportsFastExtension,
} from './handshake.js';
export {
  encodeHaves,
  encodeMessage,
  encodePieceHeader,
  encodeRequests,
  PIECE_HEADER_LENGTH,
} from './message-codec.js';
export { MessageDecoder, type MessageDecoderOptions } from './message-decoder.js';
export {
  bitfieldMessageLength,
  checkMessageLength,
  DEFAULT_MAX_MESSAGE_LENGTH,
  isKnownMessageId,
  MAX_PIECE_BLOCK_LENGTH,
  maxMessageLengthFor,
  UNKNOWN_PIECE_COUNT_MAX_MESSAGE_LENGTH,
} from './message-length.js';
export {
  BLOCK_SIZE,
  type Handshake,
  MAX_BLOCK_SIZE,
  type Message,
  MessageId,
  type MessageType,
} from './types.js';
export {
  decodeMetadataMessage,
  encodeMetadataMessage,
  expectedMetadataBlockLength,
  MAX_METADATA_PIECES,
  MAX_METADATA_SIZE,
  METADATA_BLOCK_SIZE,
  type MetadataMessage,
  metadataPieceCount,
  validateMetadataSize,
} from './ut-metadata.js';
export {
  decodePexMessage,
  encodePexMessage,
  MAX_PEX_DECODED_ENTRIES,
  PEX_FLAGS,
  type PexMessage,
  type PexPeer,
} from './ut-pex.js';
