/**
 * `lodestone/bencode`: Bencode: a strict, bounded decoder (depth, value count, string lengths
 * checked) and the encoder.
 *
 * @module lodestone/bencode
 */
export { bytesToText, getBytes, getDict, getInt, getList, getText, isDict } from './access.js';
export { decode, decodePrefix, listItems, listLength, spanOf } from './decode.js';
export { encode } from './encode.js';
export type { BencodeDict, BencodeValue, DecodeOptions, Encodable, Span } from './types.js';
