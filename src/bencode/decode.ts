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

/** A list whose items were checked but not built (DecodeOptions.deferList): its bytes, decoded on demand. */
interface DeferredList {
  bytes: Uint8Array;
  count: number;
  lenient: boolean;
}
const deferred = new WeakMap<readonly BencodeValue[], DeferredList>();

/**
 * The items of a decoded list. For a list the decoder deferred (see DecodeOptions.deferList),
 * each item is decoded when the iteration reaches it, so only one is in memory at a time
 * (unless the caller keeps them); for any other list, the list itself.
 */
export function* listItems(list: readonly BencodeValue[]): Generator<BencodeValue, void, undefined> {
  const lazy = deferred.get(list);
  if (!lazy) {
    yield* list;
    return;
  }
  let pos = 1; // after 'l'
  while (lazy.bytes[pos] !== CHAR_E) {
    const { value, end } = decodePrefix(lazy.bytes.subarray(pos), { lenient: lazy.lenient, spanDepth: 0 });
    yield value;
    pos += end;
  }
}

/** How many items a decoded list holds (deferred or not). */
export function listLength(list: readonly BencodeValue[]): number {
  return deferred.get(list)?.count ?? list.length;
}

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
  readonly #spanDepth: number;
  readonly #deferList: ((key: string, depth: number) => boolean) | undefined;
  /** Dictionary keys seen so far (a torrent has few distinct ones): one string each, not one per use. */
  readonly #keys = new Map<number, string[]>();
  #pos = 0;
  #items = 0;

  constructor(bytes: Uint8Array, options: DecodeOptions) {
    this.#bytes = bytes;
    this.#lenient = options.lenient ?? false;
    this.#maxDepth = options.maxDepth ?? 64;
    this.#maxItems = options.maxItems ?? 1_000_000;
    this.#spanDepth = options.spanDepth ?? Number.POSITIVE_INFINITY;
    this.#deferList = options.deferList;
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
    if (depth <= this.#spanDepth) spans.set(list, { start, end: this.#pos });
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
      const key = this.#key();
      if (previousKey !== undefined && key <= previousKey && !this.#lenient) {
        const problem = key === previousKey ? 'duplicate' : 'unsorted';
        throw new BencodeError(`${problem} dictionary key "${printable(key)}"`, keyOffset);
      }
      const defer = this.#bytes[this.#pos] === CHAR_L && this.#deferList?.(key, depth) === true;
      const value = defer ? this.#deferredList(depth) : this.value(depth);
      if (!dict.has(key)) dict.set(key, value);
      previousKey = key;
    }
    this.#pos++;
    if (depth <= this.#spanDepth) spans.set(dict, { start, end: this.#pos });
    return dict;
  }

  /** A list checked item by item (same errors and limits as decoding it) without building the items. */
  #deferredList(depth: number): BencodeValue[] {
    if (++this.#items > this.#maxItems)
      throw new BencodeError(`more than ${this.#maxItems} values`, this.#pos);
    if (depth >= this.#maxDepth) throw new BencodeError(`nesting deeper than ${this.#maxDepth}`, this.#pos);
    const start = this.#pos;
    this.#pos++; // 'l'
    let count = 0;
    while (this.#bytes[this.#pos] !== CHAR_E) {
      if (this.#pos >= this.#bytes.length) throw new BencodeError('unterminated list', start);
      this.#skip(depth + 1);
      count++;
    }
    this.#pos++;
    const list: BencodeValue[] = [];
    deferred.set(list, { bytes: this.#bytes.subarray(start, this.#pos), count, lenient: this.#lenient });
    if (depth + 1 <= this.#spanDepth) spans.set(list, { start, end: this.#pos });
    return list;
  }

  /** Checks one value as value() would, building nothing (no strings, arrays or maps). */
  #skip(depth: number): void {
    if (++this.#items > this.#maxItems)
      throw new BencodeError(`more than ${this.#maxItems} values`, this.#pos);
    const bytes = this.#bytes;
    const byte = bytes[this.#pos];
    if (byte === undefined) throw new BencodeError('unexpected end of data', this.#pos);
    if (byte === CHAR_I) {
      this.#integer();
      return;
    }
    if (byte >= CHAR_0 && byte <= CHAR_9) {
      this.#skipString();
      return;
    }
    if (byte !== CHAR_L && byte !== CHAR_D) {
      throw new BencodeError(`unexpected byte 0x${byte.toString(16).padStart(2, '0')}`, this.#pos);
    }
    if (depth >= this.#maxDepth) throw new BencodeError(`nesting deeper than ${this.#maxDepth}`, this.#pos);
    const start = this.#pos;
    const isList = byte === CHAR_L;
    this.#pos++;
    let previousFrom = -1;
    let previousTo = -1;
    while (bytes[this.#pos] !== CHAR_E) {
      if (this.#pos >= bytes.length)
        throw new BencodeError(`unterminated ${isList ? 'list' : 'dictionary'}`, start);
      if (isList) {
        this.#skip(depth + 1);
        continue;
      }
      const keyOffset = this.#pos;
      const keyByte = bytes[keyOffset];
      if (keyByte === undefined || keyByte < CHAR_0 || keyByte > CHAR_9) {
        throw new BencodeError('dictionary key is not a string', keyOffset);
      }
      if (++this.#items > this.#maxItems)
        throw new BencodeError(`more than ${this.#maxItems} values`, keyOffset);
      const [from, to] = this.#skipString();
      if (previousFrom >= 0 && !this.#lenient) {
        const order = compareBytes(bytes, from, to, previousFrom, previousTo);
        if (order <= 0) {
          const key = Buffer.from(bytes.buffer, bytes.byteOffset + from, to - from).toString('latin1');
          const problem = order === 0 ? 'duplicate' : 'unsorted';
          throw new BencodeError(`${problem} dictionary key "${printable(key)}"`, keyOffset);
        }
      }
      previousFrom = from;
      previousTo = to;
      this.#skip(depth + 1);
    }
    this.#pos++;
  }

  /** Skips a byte string (checked like #byteString), returning where its bytes lie. */
  #skipString(): [number, number] {
    const start = this.#pos;
    const [from, to] = this.#digits(CHAR_COLON, 'string length', MAX_LENGTH_DIGITS);
    const length = this.#smallValue(from, to);
    const end = this.#pos + length;
    if (end > this.#bytes.length) {
      throw new BencodeError(`string of ${length} bytes overruns the data`, start);
    }
    const at = this.#pos;
    this.#pos = end;
    return [at, end];
  }

  /** A dictionary key as a binary (latin1) string, the same string for the same short key. */
  #key(): string {
    const raw = this.#byteString();
    const length = raw.length;
    if (length > 32) return Buffer.from(raw.buffer, raw.byteOffset, length).toString('latin1');
    const hash = length * 256 + (length > 0 ? raw[0]! : 0);
    let known = this.#keys.get(hash);
    if (known) {
      for (const candidate of known) {
        let same = true;
        for (let i = 1; i < length; i++) {
          if (candidate.charCodeAt(i) !== raw[i]) {
            same = false;
            break;
          }
        }
        if (same) return candidate;
      }
    } else {
      known = [];
      this.#keys.set(hash, known);
    }
    const key = Buffer.from(raw.buffer, raw.byteOffset, length).toString('latin1');
    // Bounded: hostile input with many distinct keys only gets fresh strings.
    if (known.length < 8) known.push(key);
    return key;
  }
}

/** Byte order of bytes[aFrom, aTo) against bytes[bFrom, bTo): negative, 0 or positive. */
function compareBytes(bytes: Uint8Array, aFrom: number, aTo: number, bFrom: number, bTo: number): number {
  const common = Math.min(aTo - aFrom, bTo - bFrom);
  for (let i = 0; i < common; i++) {
    const difference = bytes[aFrom + i]! - bytes[bFrom + i]!;
    if (difference !== 0) return difference;
  }
  return aTo - aFrom - (bTo - bFrom);
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
