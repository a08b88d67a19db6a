export { getBytes, getDict, getInt, getList, getText, isDict, bytesToText } from './access.js';
export { decode, decodePrefix, spanOf } from './decode.js';
export { encode } from './encode.js';
export type { BencodeDict, BencodeValue, DecodeOptions, Encodable, Span } from './types.js';
