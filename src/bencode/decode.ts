import { BencodeError } from '../errors.js';
import type { BencodeDict, BencodeValue, DecodeOptions, Span } from './types.js';

const CHAR_I = 0x69;
const CHAR_L = 0x6c;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const CHAR_COLON = 0x3a;
const CHAR_MINUS = 0x2d;
const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
/** Longest string length we parse; 16 digits already exceed any byte length we could hold. */
const MAX_LENGTH_DIGITS = 16;
/**
 * Longest integer magnitude we parse: 20 digits, libtorrent's own bound (it fails a whole
 * document with more), so every unsigned or signed 64-bit value fits. Integers beyond 2^53
 * become `bigint`; consumers that need a number read them as absent or refuse them by name.
 */
export const MAX_INTEGER_DIGITS = 20;

const spans = new WeakMap<object, Span>();

/**
 * The byte span a decoded list or dictionary occupied in its source buffer.
 * This is how the info-hash is taken over the exact `info` bytes of a file.
 */
export function spanOf(value: BencodeValue): Span | undefined {
  return typeof value === 'object' && !(value instanceof Uint8Array) ? spans.get(value) : undefined;
}

class Decoder {
  readonly #bytes: Uint8Array;
  readonly #lenient: boolean;
  readonly #maxDepth: number;
  readonly #maxItems: number;
  #pos = 0;
  #items = 0;

  constructor(bytes: Uint8Array, options: DecodeOptions) {
    this.#bytes = bytes;
    this.#lenient = options.lenient ?? false;
    this.#maxDepth = options.maxDepth ?? 64;
    this.#maxItems = options.maxItems ?? 1_000_000;
  }

  get position(): number {
    return this.#pos;
  }

  value(depth: number): BencodeValue {
    if (++this.#items > this.#maxItems)
      throw new BencodeError(`more than ${this.#maxItems} values`, this.#pos);
    const byte = this.#bytes[this.#pos];
    if (byte === undefined) throw new BencodeError('unexpected end of data', this.#pos);
    if (byte === CHAR_I) return this.#integer();
    if (byte >= CHAR_0 && byte <= CHAR_9) return this.#byteString();
    if (byte === CHAR_L || byte === CHAR_D) {
      if (depth >= this.#maxDepth) throw new BencodeError(`nesting deeper than ${this.#maxDepth}`, this.#pos);
      return byte === CHAR_L ? this.#list(depth + 1) : this.#dict(depth + 1);
    }
    throw new BencodeError(`unexpected byte 0x${byte.toString(16).padStart(2, '0')}`, this.#pos);
  }

  /**
   * Reads an unsigned decimal run of at most `maxDigits` ending at `terminator`, leaving the
   * position on the terminator; returns the run's [start, end).
   */
  #digits(terminator: number, what: string, maxDigits: number): [number, number] {
    const bytes = this.#bytes;
    const start = this.#pos;
    while (true) {
      const byte = bytes[this.#pos];
      if (byte === undefined) throw new BencodeError(`unterminated ${what}`, this.#pos);
      if (byte === terminator) break;
      if (byte < CHAR_0 || byte > CHAR_9) throw new BencodeError(`invalid digit in ${what}`, this.#pos);
      if (this.#pos - start >= maxDigits) throw new BencodeError(`${what} too large`, start);
      this.#pos++;
    }
    const end = this.#pos;
    if (end === start) throw new BencodeError(`empty ${what}`, start);
    if (end - start > 1 && bytes[start] === CHAR_0 && !this.#lenient) {
      throw new BencodeError(`leading zero in ${what}`, start);
    }
    this.#pos++; // terminator
    return [start, end];
  }

  /**
   * The value of a short digit run: exact up to 15 digits (integers); a 16-digit string length may
   * round, which is harmless because any such length overruns the input and is refused.
   */
  #smallValue(start: number, end: number): number {
    let value = 0;
    for (let i = start; i < end; i++) value = value * 10 + (this.#bytes[i]! - CHAR_0);
    return value;
  }

  /** A number when it is a safe integer, otherwise a bigint (at most MAX_INTEGER_DIGITS digits). */
  #integer(): number | bigint {
    const start = this.#pos;
    this.#pos++; // 'i'
    const negative = this.#bytes[this.#pos] === CHAR_MINUS;
    if (negative) this.#pos++;
    const [from, to] = this.#digits(CHAR_E, 'integer', MAX_INTEGER_DIGITS);
    if (to - from <= 15) {
      const magnitude = this.#smallValue(from, to);
      if (negative && magnitude === 0) throw new BencodeError('negative zero', start);
      return negative ? -magnitude : magnitude;
    }
    // Up to 20 ASCII digits: exact as a bigint, then narrowed back when it is safe.
    const text = Buffer.from(this.#bytes.buffer, this.#bytes.byteOffset + from, to - from).toString('latin1');
    const big = negative ? -BigInt(text) : BigInt(text);
    if (big === 0n && negative) throw new BencodeError('negative zero', start);
    const small = Number(big);
    return Number.isSafeInteger(small) ? small : big;
  }

  #byteString(): Uint8Array {
    const start = this.#pos;
    const [from, to] = this.#digits(CHAR_COLON, 'string length', MAX_LENGTH_DIGITS);
    const length = this.#smallValue(from, to);
    const end = this.#pos + length;
    // Checked before any allocation: a declared length can never exceed the input.
    if (end > this.#bytes.length) {
      throw new BencodeError(`string of ${length} bytes overruns the data`, start);
    }
    const out = this.#bytes.subarray(this.#pos, end);
    this.#pos = end;
    return out;
  }

  #list(depth: number): BencodeValue[] {
    const start = this.#pos;
    this.#pos++; // 'l'
    const list: BencodeValue[] = [];
    while (this.#bytes[this.#pos] !== CHAR_E) {
      if (this.#pos >= this.#bytes.length) throw new BencodeError('unterminated list', start);
      list.push(this.value(depth));
    }
    this.#pos++;
    spans.set(list, { start, end: this.#pos });
    return list;
  }

  #dict(depth: number): BencodeDict {
    const start = this.#pos;
    this.#pos++; // 'd'
    const dict: BencodeDict = new Map();
    let previousKey: string | undefined;
    while (this.#bytes[this.#pos] !== CHAR_E) {
      if (this.#pos >= this.#bytes.length) throw new BencodeError('unterminated dictionary', start);
      const keyOffset = this.#pos;
      const keyByte = this.#bytes[keyOffset];
      if (keyByte === undefined || keyByte < CHAR_0 || keyByte > CHAR_9) {
        throw new BencodeError('dictionary key is not a string', keyOffset);
      }
      if (++this.#items > this.#maxItems)
        throw new BencodeError(`more than ${this.#maxItems} values`, keyOffset);
      const key = Buffer.from(this.#byteString()).toString('latin1');
      if (previousKey !== undefined && key <= previousKey && !this.#lenient) {
        const problem = key === previousKey ? 'duplicate' : 'unsorted';
        throw new BencodeError(`${problem} dictionary key "${printable(key)}"`, keyOffset);
      }
      const value = this.value(depth);
      if (!dict.has(key)) dict.set(key, value);
      previousKey = key;
    }
    this.#pos++;
    spans.set(dict, { start, end: this.#pos });
    return dict;
  }
}

function printable(key: string): string {
  return key.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}

/** Decodes exactly one value that must fill `bytes`; trailing bytes are an error. */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): BencodeValue {
  const decoder = new Decoder(bytes, options);
  const value = decoder.value(0);
  if (decoder.position !== bytes.length) {
    throw new BencodeError('trailing data after value', decoder.position);
  }
  return value;
}

/**
 * Decodes one value at the start of `bytes` and reports where it ended, for
 * formats that append raw data after a dictionary (BEP 9 `data` messages).
 */
export function decodePrefix(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): { value: BencodeValue; end: number } {
  const decoder = new Decoder(bytes, options);
  const value = decoder.value(0);
  return { value, end: decoder.position };
}
