import type { BencodeDict, BencodeValue } from './types.js';

/** Typed, non-throwing readers for decoded dictionaries: a wrong type reads as absent. */
export function isDict(value: BencodeValue | undefined): value is BencodeDict {
  return value instanceof Map;
}

export function getDict(dict: BencodeDict, key: string): BencodeDict | undefined {
  const value = dict.get(key);
  return value instanceof Map ? value : undefined;
}

export function getList(dict: BencodeDict, key: string): BencodeValue[] | undefined {
  const value = dict.get(key);
  return Array.isArray(value) ? value : undefined;
}

export function getBytes(dict: BencodeDict, key: string): Uint8Array | undefined {
  const value = dict.get(key);
  return value instanceof Uint8Array ? value : undefined;
}

/** A safe integer; an integer beyond 2^53 (decoded as a bigint) reads as absent too. */
export function getInt(dict: BencodeDict, key: string): number | undefined {
  const value = dict.get(key);
  return typeof value === 'number' ? value : undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Text where the format says a value is text (UTF-8, invalid sequences replaced). */
export function getText(dict: BencodeDict, key: string): string | undefined {
  const bytes = getBytes(dict, key);
  return bytes === undefined ? undefined : utf8.decode(bytes);
}

export function bytesToText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
