import { Bitfield } from '../bitfield.js';
import { LodestoneError, WireError } from '../errors.js';
import { type BufferPool, sharedDecoderPool } from './buffer-pool.js';
import { checkMessageLength, isKnownMessageId, maxMessageLengthFor } from './message-length.js';
import { type Message, MessageId } from './types.js';

export interface MessageDecoderOptions {
  /**
   * Pieces in the torrent, when known. Sizes the default `maxMessageLength` to fit its bitfield,
   * and makes a bitfield of any other length, or with spare bits set, a WireError (BEP 3).
   * Can be set later through the `pieceCount` property (a magnet link once metadata arrives).
   * @default undefined (unknown)
   */
  pieceCount?: number;
  /**
   * Largest length prefix accepted; a larger one is a WireError raised from the 4-byte prefix
   * alone, before anything is buffered for it.
   * @default maxMessageLengthFor(pieceCount): 128 KiB + 9 (the largest piece message), or the
   * bitfield's length if larger; 1 MiB + 1 while the piece count is unknown.
   */
  maxMessageLength?: number;
  /**
   * Lets the decoder reuse its own memory for the bytes it copies: the block of a `piece`
   * message that straddles chunks is then valid only until the next `next()` call, and
   * `detach()` keeps the unread tail in one buffer reused from call to call. For consumers that
   * copy what they keep (a session writing blocks into piece buffers): a download then copies
   * ~16 KiB per read into buffers lent by `pool` instead of allocating them. They are held only
   * while such bytes are pending and given back as soon as they are consumed (the scratch at the
   * next `next()`, the tail when `detach()` finds nothing unread), so an idle decoder holds none.
   * @default false
   */
  reuseMemory?: boolean;
  /** Where `reuseMemory` borrows its buffers. @default a pool shared by the whole process */
  pool?: BufferPool;
}

const LENGTH_PREFIX = 4;
const EMPTY = new Uint8Array(0);
/** Consumed chunk slots are compacted away once this many pile up at the front of the list. */
const COMPACT_AFTER = 1024;

/**
 * A sans-I/O decoder for the length-prefixed messages that follow the handshake: `push()` the
 * chunks as they arrive, then call `next()` until it returns undefined (needs more bytes), or
 * iterate the decoder.
 *
 * Chunks are kept as they are (no concatenation). A message lying entirely inside one chunk is
 * returned as views into that chunk (`piece.block`, `bitfield.bits`, `extended.payload`); only a
 * message straddling chunks is copied, once. So a pushed chunk must not be modified afterwards,
 * and a caller that reuses its read buffers must copy what it keeps. Node socket chunks are fresh
 * buffers, never reused, so views of them are safe to keep.
 *
 * After a WireError the decoder stays failed: every later `next()` throws the same error and
 * pushed chunks are dropped. The connection should be closed.
 */
export class MessageDecoder implements Iterable<Message> {
  readonly #chunks: Uint8Array[] = [];
  /** Index of the chunk holding the next unread byte, and that byte's offset in it. */
  #first = 0;
  #offset = 0;
  #buffered = 0;
  /** Payload bytes of an unknown message still to be thrown away as they arrive. */
  #skip = 0;
  #pieceCount: number | undefined;
  #explicitMax: number | undefined;
  #maxMessageLength: number;
  #failure: WireError | undefined;
  readonly #reuse: boolean;
  readonly #pool: BufferPool;
  /**
   * With reuseMemory: where detach() keeps the unread tail (held while a tail is pending), and
   * where a straddling piece is joined (held until the next call). Pooled, or a larger own one.
   */
  #carry: Buffer | undefined;
  #scratch: Buffer | undefined;

  constructor(options: MessageDecoderOptions = {}) {
    this.#reuse = options.reuseMemory ?? false;
    this.#pool = options.pool ?? sharedDecoderPool;
    this.#pieceCount = checkCount(options.pieceCount, 'pieceCount');
    this.#explicitMax = checkCount(options.maxMessageLength, 'maxMessageLength');
    this.#maxMessageLength = this.#explicitMax ?? maxMessageLengthFor(this.#pieceCount);
  }

  /** Bytes pushed but not yet decoded, for memory accounting. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  get pieceCount(): number | undefined {
    return this.#pieceCount;
  }

  /** Sets the piece count once known; also resizes the default maximum (not an explicit one). */
  set pieceCount(pieceCount: number | undefined) {
    this.#pieceCount = checkCount(pieceCount, 'pieceCount');
    if (this.#explicitMax === undefined) this.#maxMessageLength = maxMessageLengthFor(this.#pieceCount);
  }

  get maxMessageLength(): number {
    return this.#maxMessageLength;
  }

  set maxMessageLength(length: number) {
    checkCount(length, 'maxMessageLength');
    this.#explicitMax = length;
    this.#maxMessageLength = length;
  }

  /** Queues a chunk (kept by reference, not copied). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#failure !== undefined) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * Copies what is left of the most recently pushed chunk, so the caller can
   * reuse that read buffer (a socket with `onread`). Call it after `next()`
   * returned undefined, once the messages returned so far have been consumed;
   * earlier chunks were already copied by earlier calls, so the cost is the
   * unread tail of one read, never the whole buffered message again.
   */
  detach(): void {
    this.#giveScratch();
    const last = this.#chunks.length - 1;
    if (last < this.#first || this.#buffered === 0) {
      this.#chunks.length = 0;
      this.#first = 0;
      this.#offset = 0;
      // Nothing pending: an idle connection keeps no buffer.
      if (this.#carry !== undefined) this.#pool.give(this.#carry);
      this.#carry = undefined;
      return;
    }
    if (this.#reuse) {
      this.#detachIntoCarry();
      return;
    }
    const chunk = this.#chunks[last]!;
    const from = last === this.#first ? this.#offset : 0;
    this.#chunks[last] = Uint8Array.prototype.slice.call(chunk, from);
    if (last === this.#first) this.#offset = 0;
  }

  /** Gathers every unread byte at the start of the reused carry buffer (moving what is already there). */
  #detachIntoCarry(): void {
    const total = this.#buffered;
    const pool = this.#pool;
    const held = this.#carry;
    let carry = held;
    // A large message (a bitfield) takes an own buffer; a later small tail goes back to a pooled one.
    const unpooledFits = carry !== undefined && carry.length !== pool.size && total <= pool.size;
    if (carry === undefined || carry.length < total || unpooledFits) {
      carry = total <= pool.size ? pool.take() : Buffer.allocUnsafeSlow(total);
    }
    let written = 0;
    for (let i = this.#first; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!;
      const from = i === this.#first ? this.#offset : 0;
      // Uint8Array#set copies as if through a temporary, so moving bytes within the carry is safe.
      carry.set(from === 0 ? chunk : chunk.subarray(from), written);
      written += chunk.length - from;
    }
    if (held !== undefined && held !== carry) pool.give(held); // its bytes were copied above
    this.#carry = carry;
    this.#chunks.length = 0;
    this.#chunks.push(carry.subarray(0, total));
    this.#first = 0;
    this.#offset = 0;
  }

  *[Symbol.iterator](): Iterator<Message> {
    for (let message = this.next(); message !== undefined; message = this.next()) yield message;
  }

  /** The next complete message, or undefined when more bytes are needed. Throws WireError. */
  next(): Message | undefined {
    if (this.#failure !== undefined) throw this.#failure;
    // The previous message has been consumed: a piece joined in the scratch is no longer read.
    this.#giveScratch();
    try {
      return this.#next();
    } catch (error) {
      if (error instanceof WireError) {
        this.#failure = error;
        this.#release();
      }
      throw error;
    }
  }

  #next(): Message | undefined {
    if (this.#skip > 0) {
      this.#discardSkipped();
      if (this.#skip > 0) return undefined;
    }
    if (this.#buffered < LENGTH_PREFIX) return undefined;
    const head = this.#chunks[this.#first]!;
    const start = this.#offset;
    const inHead = head.length - start;
    const length = inHead >= LENGTH_PREFIX ? readUint32(head, start) : this.#peekUint32();
    if (length === 0) {
      this.#discard(LENGTH_PREFIX);
      return { type: 'keep-alive' };
    }
    if (length > this.#maxMessageLength) {
      throw new WireError(`message length ${length} exceeds the maximum of ${this.#maxMessageLength}`);
    }
    if (this.#buffered <= LENGTH_PREFIX) return undefined;
    const id = inHead > LENGTH_PREFIX ? head[start + LENGTH_PREFIX]! : this.#peekByte(LENGTH_PREFIX);
    checkMessageLength(id, length, this.#pieceCount);
    if (!isKnownMessageId(id)) {
      // Reported at once; its payload is dropped as it arrives, never buffered whole.
      this.#discard(LENGTH_PREFIX + 1);
      this.#skip = length - 1;
      this.#discardSkipped();
      return { type: 'unknown', id, length };
    }
    if (this.#buffered < LENGTH_PREFIX + length) return undefined;
    if (inHead >= LENGTH_PREFIX + length) {
      // Fast path: the whole message is in the head chunk; decode in place.
      this.#discard(LENGTH_PREFIX + length);
      return this.#decodeBody(head, start + LENGTH_PREFIX, length);
    }
    this.#discard(LENGTH_PREFIX);
    return this.#decodeBody(this.#take(length), 0, length);
  }

  /** Decodes the body (id + payload, `length` bytes) at `at`; the id is known and its length valid. */
  #decodeBody(bytes: Uint8Array, at: number, length: number): Message {
    const id = bytes[at]!;
    switch (id) {
      case MessageId.choke:
        return { type: 'choke' };
      case MessageId.unchoke:
        return { type: 'unchoke' };
      case MessageId.interested:
        return { type: 'interested' };
      case MessageId.notInterested:
        return { type: 'not-interested' };
      case MessageId.haveAll:
        return { type: 'have-all' };
      case MessageId.haveNone:
        return { type: 'have-none' };
      case MessageId.have:
        return { type: 'have', index: readUint32(bytes, at + 1) };
      case MessageId.suggest:
        return { type: 'suggest', index: readUint32(bytes, at + 1) };
      case MessageId.allowedFast:
        return { type: 'allowed-fast', index: readUint32(bytes, at + 1) };
      case MessageId.request:
        return { type: 'request', ...readBlockRef(bytes, at) };
      case MessageId.cancel:
        return { type: 'cancel', ...readBlockRef(bytes, at) };
      case MessageId.reject:
        return { type: 'reject', ...readBlockRef(bytes, at) };
      case MessageId.piece:
        return {
          type: 'piece',
          index: readUint32(bytes, at + 1),
          begin: readUint32(bytes, at + 5),
          block: bytes.subarray(at + 9, at + length),
        };
      case MessageId.bitfield: {
        const bits = bytes.subarray(at + 1, at + length);
        if (this.#pieceCount !== undefined && !Bitfield.spareBitsClear(this.#pieceCount, bits)) {
          throw new WireError('bitfield has spare bits set past the last piece');
        }
        return { type: 'bitfield', bits };
      }
      case MessageId.port:
        return { type: 'port', port: (bytes[at + 1]! << 8) | bytes[at + 2]! };
      case MessageId.extended:
        return { type: 'extended', id: bytes[at + 1]!, payload: bytes.subarray(at + 2, at + length) };
      default:
        // Unreachable: unknown ids are reported from the header in #next().
        return { type: 'unknown', id, length };
    }
  }

  #peekByte(index: number): number {
    let position = this.#offset + index;
    for (let i = this.#first; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i]!;
      if (position < chunk.length) return chunk[position]!;
      position -= chunk.length;
    }
    return 0; // callers check #buffered first
  }

  #peekUint32(): number {
    return (
      this.#peekByte(0) * 0x1000000 +
      ((this.#peekByte(1) << 16) | (this.#peekByte(2) << 8) | this.#peekByte(3))
    );
  }

  /** Consumes `count` bytes (at most #buffered) without looking at them. */
  #discard(count: number): void {
    this.#buffered -= count;
    let left = count;
    while (left > 0) {
      const head = this.#chunks[this.#first]!;
      const inHead = head.length - this.#offset;
      if (left < inHead) {
        this.#offset += left;
        return;
      }
      left -= inHead;
      this.#dropHead();
    }
  }

  #discardSkipped(): void {
    const count = Math.min(this.#skip, this.#buffered);
    this.#discard(count);
    this.#skip -= count;
  }

  /** Consumes `count` buffered bytes: a view if they lie in one chunk, otherwise one copy. */
  #take(count: number): Uint8Array {
    const head = this.#chunks[this.#first]!;
    if (head.length - this.#offset >= count) {
      const view = head.subarray(this.#offset, this.#offset + count);
      this.#discard(count);
      return view;
    }
    const out = this.#joinBuffer(count);
    let written = 0;
    while (written < count) {
      const chunk = this.#chunks[this.#first]!;
      const part = Math.min(chunk.length - this.#offset, count - written);
      out.set(chunk.subarray(this.#offset, this.#offset + part), written);
      written += part;
      this.#discard(part);
    }
    return out;
  }

  /**
   * Where a message straddling chunks is joined: a fresh buffer, or with reuseMemory the reused
   * scratch buffer for a block-sized body (a piece message, consumed before the next call).
   */
  #joinBuffer(count: number): Buffer {
    if (!this.#reuse || count > this.#pool.size) return Buffer.allocUnsafe(count);
    const head = this.#chunks[this.#first]!;
    const id = this.#offset < head.length ? head[this.#offset] : this.#peekByte(0);
    if (id !== MessageId.piece) return Buffer.allocUnsafe(count);
    this.#scratch ??= this.#pool.take();
    return this.#scratch.subarray(0, count);
  }

  #giveScratch(): void {
    if (this.#scratch === undefined) return;
    this.#pool.give(this.#scratch);
    this.#scratch = undefined;
  }

  #dropHead(): void {
    this.#chunks[this.#first] = EMPTY; // let the consumed chunk be collected
    this.#first++;
    this.#offset = 0;
    if (this.#first === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#first = 0;
    } else if (this.#first >= COMPACT_AFTER && this.#first * 2 >= this.#chunks.length) {
      this.#chunks.splice(0, this.#first);
      this.#first = 0;
    }
  }

  #release(): void {
    this.#giveScratch();
    if (this.#carry !== undefined) this.#pool.give(this.#carry);
    this.#carry = undefined;
    this.#chunks.length = 0;
    this.#first = 0;
    this.#offset = 0;
    this.#buffered = 0;
    this.#skip = 0;
  }
}

function readUint32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function readBlockRef(bytes: Uint8Array, at: number): { index: number; begin: number; length: number } {
  return {
    index: readUint32(bytes, at + 1),
    begin: readUint32(bytes, at + 5),
    length: readUint32(bytes, at + 9),
  };
}

function checkCount(value: number | undefined, name: string): number | undefined {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new LodestoneError('LODESTONE_ERR_USAGE', `${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}
