export { bytesToText, getBytes, getDict, getInt, getList, getText, isDict } from './access.js';
export { decode, decodePrefix, spanOf } from './decode.js';
export { encode } from './encode.js';
export type { BencodeDict, BencodeValue, DecodeOptions, Encodable, Span } from './types.js';
