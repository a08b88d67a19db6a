import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WireError } from '../../../src/errors.js';
import {
  encodeHaves,
  encodeMessage,
  encodePieceHeader,
  encodeRequests,
  MessageDecoder,
  PIECE_HEADER_LENGTH,
} from '../../../src/wire/message-codec.js';
import { MAX_PIECE_BLOCK_LENGTH } from '../../../src/wire/message-length.js';
import { type Message, MessageId } from '../../../src/wire/types.js';
import { concat, plain, sampleMessages } from './samples.js';

function decodeAll(decoder: MessageDecoder): Message[] {
  return [...decoder].map(plain);
}

/** A raw frame: length prefix `length`, id, then `length - 1` payload bytes (or `payload`). */
function frame(length: number, id: number, payload: Uint8Array = new Uint8Array(Math.max(0, length - 1))) {
  const out = Buffer.alloc(5 + payload.length);
  out.writeUInt32BE(length, 0);
  out[4] = id;
  out.set(payload, 5);
  return out;
}

describe('encodeMessage', () => {
  test('exact bytes of simple messages', () => {
    assert.deepEqual([...encodeMessage({ type: 'keep-alive' })], [0, 0, 0, 0]);
    assert.deepEqual([...encodeMessage({ type: 'interested' })], [0, 0, 0, 1, 2]);
    assert.deepEqual([...encodeMessage({ type: 'have', index: 0x01020304 })], [0, 0, 0, 5, 4, 1, 2, 3, 4]);
    assert.deepEqual(
      [...encodeMessage({ type: 'request', index: 1, begin: 0x4000, length: 0x4000 })],
      [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0],
    );
    assert.deepEqual([...encodeMessage({ type: 'port', port: 0x1ae1 })], [0, 0, 0, 3, 9, 0x1a, 0xe1]);
    assert.deepEqual([...encodeMessage({ type: 'have-all' })], [0, 0, 0, 1, 14]);
    assert.deepEqual(
      [...encodeMessage({ type: 'extended', id: 3, payload: new Uint8Array([9]) })],
      [0, 0, 0, 3, 20, 3, 9],
    );
    assert.deepEqual([...encodeMessage({ type: 'unknown', id: 99, length: 3 })], [0, 0, 0, 3, 99, 0, 0]);
  });

  test('encodePieceHeader is the first 13 bytes of the piece message', () => {
    const block = new Uint8Array([5, 6, 7, 8]);
    const whole = encodeMessage({ type: 'piece', index: 9, begin: 16384, block });
    const header = encodePieceHeader(9, 16384, block.length);
    assert.equal(header.length, PIECE_HEADER_LENGTH);
    assert.deepEqual(header, whole.subarray(0, PIECE_HEADER_LENGTH));
    assert.deepEqual(concat([header, block]), new Uint8Array(whole));
  });

  test('encodeHaves and encodeRequests are the single messages back to back', () => {
    const haves = [0, 7, 0xffffffff];
    assert.deepEqual(
      new Uint8Array(encodeHaves(haves)),
      concat(haves.map((index) => encodeMessage({ type: 'have', index }))),
    );
    const requests = [
      { index: 0, begin: 0, length: 16384 },
      { index: 3, begin: 49152, length: 1000 },
    ];
    assert.deepEqual(
      new Uint8Array(encodeRequests(requests)),
      concat(requests.map((request) => encodeMessage({ type: 'request', ...request }))),
    );
    assert.equal(encodeHaves([]).length, 0);
    assert.throws(() => encodeHaves([-1]), WireError);
    assert.throws(() => encodeRequests([{ index: 0, begin: 0.5, length: 1 }]), WireError);
  });

  test('values that do not fit the wire are WireErrors', () => {
    const bad: Message[] = [
      { type: 'have', index: -1 },
      { type: 'have', index: 2 ** 32 },
      { type: 'request', index: 0, begin: 1.5, length: 1 },
      { type: 'port', port: 65536 },
      { type: 'extended', id: 256, payload: new Uint8Array(0) },
      { type: 'unknown', id: 300, length: 1 },
      { type: 'unknown', id: 99, length: 0 },
    ];
    for (const message of bad)
      assert.throws(() => encodeMessage(message), WireError, JSON.stringify(message));
    assert.throws(() => encodePieceHeader(-1, 0, 0), WireError);
  });
});

describe('MessageDecoder round trips', () => {
  test('every message type, all in one chunk', () => {
    const messages = sampleMessages();
    const decoder = new MessageDecoder();
    decoder.push(concat(messages.map(encodeMessage)));
    assert.deepStrictEqual(decodeAll(decoder), messages.map(plain));
    assert.equal(decoder.bufferedBytes, 0);
    assert.equal(decoder.next(), undefined);
  });

  test('one byte at a time', () => {
    const messages = sampleMessages();
    const stream = concat(messages.map(encodeMessage));
    const decoder = new MessageDecoder();
    const out: Message[] = [];
    for (let i = 0; i < stream.length; i++) {
      decoder.push(stream.subarray(i, i + 1));
      for (const message of decoder) out.push(plain(message));
    }
    assert.deepStrictEqual(out, messages.map(plain));
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('each message split at every byte boundary', () => {
    for (const message of sampleMessages()) {
      const bytes = encodeMessage(message);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const decoder = new MessageDecoder();
        const out: Message[] = [];
        decoder.push(bytes.subarray(0, cut));
        out.push(...decodeAll(decoder));
        decoder.push(bytes.subarray(cut));
        out.push(...decodeAll(decoder));
        assert.deepStrictEqual(out, [plain(message)], `${message.type} cut at ${cut}`);
        assert.equal(decoder.bufferedBytes, 0);
      }
    }
  });

  test('the whole stream split at every boundary into three chunks around each message', () => {
    const messages = sampleMessages().filter((m) => m.type !== 'piece' || m.block.length < 100);
    const stream = concat(messages.map(encodeMessage));
    for (let a = 0; a <= stream.length; a += 3) {
      for (let b = a; b <= stream.length; b += 7) {
        const decoder = new MessageDecoder();
        const out: Message[] = [];
        for (const part of [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]) {
          decoder.push(part);
          out.push(...decodeAll(decoder));
        }
        assert.deepStrictEqual(out, messages.map(plain), `cuts at ${a}, ${b}`);
      }
    }
  });

  test('many messages per chunk and pushing several chunks before reading', () => {
    const haves = Array.from({ length: 1000 }, (_, index): Message => ({ type: 'have', index }));
    const stream = concat(haves.map(encodeMessage));
    const decoder = new MessageDecoder();
    for (let at = 0; at < stream.length; at += 1500) decoder.push(stream.subarray(at, at + 1500));
    assert.equal(decoder.bufferedBytes, stream.length);
    assert.deepStrictEqual(decodeAll(decoder), haves);
  });

  test('a piece block fully inside one chunk is a view, not a copy', () => {
    const block = new Uint8Array(16384).fill(7);
    const chunk = concat([
      encodeMessage({ type: 'have', index: 1 }),
      encodeMessage({ type: 'piece', index: 2, begin: 0, block }),
    ]);
    const decoder = new MessageDecoder();
    decoder.push(chunk);
    decoder.next();
    const piece = decoder.next();
    assert.equal(piece?.type, 'piece');
    if (piece?.type !== 'piece') return;
    assert.equal(piece.block.buffer, chunk.buffer);
    assert.equal(piece.block.byteOffset, chunk.byteOffset + 9 + PIECE_HEADER_LENGTH);
    assert.equal(piece.block.length, 16384);
  });

  test('a block alone in the next chunk is a view even when its header straddled chunks', () => {
    const block = new Uint8Array(100).fill(3);
    const decoder = new MessageDecoder();
    decoder.push(encodePieceHeader(1, 0, block.length).subarray(0, 2));
    decoder.push(encodePieceHeader(1, 0, block.length).subarray(2));
    assert.equal(decoder.next(), undefined);
    decoder.push(block);
    const piece = decoder.next();
    assert.equal(piece?.type, 'piece');
    if (piece?.type !== 'piece') return;
    assert.deepStrictEqual(plain(piece), { type: 'piece', index: 1, begin: 0, block });
  });

  test('a block straddling chunks is copied once, with the right bytes', () => {
    const block = new Uint8Array(16384).map((_, i) => i & 0xff);
    const bytes = encodeMessage({ type: 'piece', index: 5, begin: 16384, block });
    const decoder = new MessageDecoder();
    decoder.push(bytes.subarray(0, 5000));
    assert.equal(decoder.next(), undefined);
    assert.equal(decoder.bufferedBytes, 5000);
    decoder.push(bytes.subarray(5000));
    const piece = decoder.next();
    assert.equal(piece?.type, 'piece');
    if (piece?.type !== 'piece') return;
    assert.notEqual(piece.block.buffer, bytes.buffer);
    assert.deepEqual(Uint8Array.from(piece.block), block);
  });

  test('an unknown message is reported and its payload skipped as it arrives', () => {
    const decoder = new MessageDecoder();
    decoder.push(frame(1001, 99).subarray(0, 10));
    assert.deepStrictEqual(decoder.next(), { type: 'unknown', id: 99, length: 1001 });
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(new Uint8Array(500));
    assert.equal(decoder.next(), undefined);
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(concat([new Uint8Array(495), encodeMessage({ type: 'unchoke' })]));
    assert.deepStrictEqual(decoder.next(), { type: 'unchoke' });
    assert.equal(decoder.next(), undefined);
  });
});

describe('MessageDecoder length checks', () => {
  // [name, id, the only valid length]
  const exact: [string, number, number][] = [
    ['choke', MessageId.choke, 1],
    ['unchoke', MessageId.unchoke, 1],
    ['interested', MessageId.interested, 1],
    ['not-interested', MessageId.notInterested, 1],
    ['have', MessageId.have, 5],
    ['request', MessageId.request, 13],
    ['cancel', MessageId.cancel, 13],
    ['reject', MessageId.reject, 13],
    ['port', MessageId.port, 3],
    ['suggest', MessageId.suggest, 5],
    ['allowed-fast', MessageId.allowedFast, 5],
    ['have-all', MessageId.haveAll, 1],
    ['have-none', MessageId.haveNone, 1],
  ];

  function decodeFrame(bytes: Uint8Array, options = {}): Message | undefined {
    const decoder = new MessageDecoder(options);
    decoder.push(bytes);
    return decoder.next();
  }

  for (const [name, id, length] of exact) {
    test(`${name}: length ${length} only`, () => {
      assert.equal(decodeFrame(frame(length, id))?.type, name);
      assert.throws(() => decodeFrame(frame(length + 1, id)), /message longer than its type allows/);
      if (length > 1)
        assert.throws(() => decodeFrame(frame(length - 1, id)), /shorter than its type requires/);
    });
  }

  test('violations are detected from the 5-byte header, before the payload arrives', () => {
    const decoder = new MessageDecoder();
    decoder.push(frame(1000, MessageId.have).subarray(0, 5));
    assert.throws(() => decoder.next(), WireError);
  });

  test('piece: at least 9, block at most 128 KiB', () => {
    assert.equal(decodeFrame(frame(9, MessageId.piece))?.type, 'piece');
    assert.equal(decodeFrame(frame(9 + MAX_PIECE_BLOCK_LENGTH, MessageId.piece))?.type, 'piece');
    assert.throws(() => decodeFrame(frame(8, MessageId.piece)), WireError);
    const tooBig = frame(10 + MAX_PIECE_BLOCK_LENGTH, MessageId.piece).subarray(0, 5);
    assert.throws(() => decodeFrame(tooBig), /message longer than its type allows/);
  });

  test('extended: at least 2', () => {
    assert.deepStrictEqual(plain(decodeFrame(frame(2, MessageId.extended))!), {
      type: 'extended',
      id: 0,
      payload: new Uint8Array(0),
    });
    assert.throws(() => decodeFrame(frame(1, MessageId.extended)), WireError);
  });

  test('bitfield: any length without a piece count, exact with one, spare bits clear', () => {
    assert.equal(decodeFrame(frame(1, MessageId.bitfield))?.type, 'bitfield');
    assert.equal(decodeFrame(frame(51, MessageId.bitfield))?.type, 'bitfield');
    assert.equal(decodeFrame(frame(3, MessageId.bitfield), { pieceCount: 10 })?.type, 'bitfield');
    assert.equal(decodeFrame(frame(3, MessageId.bitfield), { pieceCount: 16 })?.type, 'bitfield');
    assert.throws(() => decodeFrame(frame(4, MessageId.bitfield), { pieceCount: 16 }), /longer/);
    assert.throws(() => decodeFrame(frame(2, MessageId.bitfield), { pieceCount: 10 }), /shorter/);
    const spareSet = frame(3, MessageId.bitfield, new Uint8Array([0xff, 0xc0 | 0x01]));
    assert.throws(() => decodeFrame(spareSet, { pieceCount: 10 }), /spare bits/);
    const spareClear = frame(3, MessageId.bitfield, new Uint8Array([0xff, 0xc0]));
    assert.equal(decodeFrame(spareClear, { pieceCount: 10 })?.type, 'bitfield');
  });

  test('the piece count can be set later and resizes the default maximum', () => {
    const decoder = new MessageDecoder();
    assert.equal(decoder.maxMessageLength, 1 + 1024 * 1024);
    decoder.pieceCount = 100;
    assert.equal(decoder.maxMessageLength, 9 + MAX_PIECE_BLOCK_LENGTH);
    decoder.pieceCount = 8 * 1024 * 1024;
    assert.equal(decoder.maxMessageLength, 1 + 1024 * 1024);
    decoder.push(frame(3, MessageId.bitfield));
    assert.throws(() => decoder.next(), WireError);
    const explicit = new MessageDecoder({ maxMessageLength: 100 });
    explicit.pieceCount = 10;
    assert.equal(explicit.maxMessageLength, 100);
  });

  test('a length prefix over maxMessageLength is rejected', () => {
    assert.throws(() => decodeFrame(frame(101, 99).subarray(0, 4), { maxMessageLength: 100 }), /exceeds/);
    assert.deepStrictEqual(decodeFrame(frame(100, 99).subarray(0, 5), { maxMessageLength: 100 }), {
      type: 'unknown',
      id: 99,
      length: 100,
    });
    const withPieces = new MessageDecoder({ pieceCount: 1000 });
    withPieces.push(frame(2 ** 20, 99).subarray(0, 4));
    assert.throws(() => withPieces.next(), WireError);
  });

  test('a 2 GiB length prefix throws WireError without allocating it', () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoder = new MessageDecoder();
    decoder.push(new Uint8Array([0x7f, 0xff, 0xff, 0xff, MessageId.piece]));
    assert.throws(() => decoder.next(), WireError);
    const decoderMax = new MessageDecoder({ maxMessageLength: 0xffffffff });
    decoderMax.push(new Uint8Array([0x7f, 0xff, 0xff, 0xff, MessageId.bitfield, 1, 2, 3]));
    assert.equal(decoderMax.next(), undefined); // waits for bytes; still nothing allocated
    assert.equal(decoderMax.bufferedBytes, 8);
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024);
  });

  test('after a WireError the decoder stays failed and drops what it held', () => {
    const decoder = new MessageDecoder();
    decoder.push(concat([frame(2, MessageId.choke), encodeMessage({ type: 'unchoke' })]));
    assert.throws(() => decoder.next(), WireError);
    assert.equal(decoder.bufferedBytes, 0);
    decoder.push(encodeMessage({ type: 'unchoke' }));
    assert.equal(decoder.bufferedBytes, 0);
    assert.throws(() => decoder.next(), WireError);
  });

  test('options must be non-negative integers', () => {
    assert.throws(() => new MessageDecoder({ pieceCount: -1 }), { code: 'LODESTONE_ERR_USAGE' });
    assert.throws(() => new MessageDecoder({ maxMessageLength: 1.5 }), { code: 'LODESTONE_ERR_USAGE' });
  });
});

test('MessageDecoder.detach lets the caller reuse its read buffer', async () => {
  const { encodeMessage, MessageDecoder } = await import('../../../src/wire/index.js');
  const stream = Buffer.concat([
    encodeMessage({ type: 'have', index: 7 }),
    encodeMessage({ type: 'piece', index: 1, begin: 0, block: Buffer.alloc(300, 9) }),
    encodeMessage({ type: 'request', index: 2, begin: 16384, length: 16384 }),
  ]);
  const decoder = new MessageDecoder({ pieceCount: 10 });
  const readBuffer = Buffer.alloc(64);
  const seen: string[] = [];
  for (let offset = 0; offset < stream.length; offset += readBuffer.length) {
    const length = stream.copy(readBuffer, 0, offset, offset + readBuffer.length);
    decoder.push(readBuffer.subarray(0, length));
    for (let message = decoder.next(); message; message = decoder.next()) {
      seen.push(message.type === 'piece' ? `piece ${message.block.every((b) => b === 9)}` : message.type);
    }
    decoder.detach();
    readBuffer.fill(0xee); // the next read overwrites the buffer
  }
  assert.deepEqual(seen, ['have', 'piece true', 'request']);
});

test('MessageDecoder with reuseMemory: messages consumed at once are intact whatever the read sizes', async () => {
  const fc = (await import('fast-check')).default;
  const { encodeMessage, MessageDecoder } = await import('../../../src/wire/index.js');
  const messages = sampleMessages().filter((message) => message.type !== 'unknown');
  const expected = messages.map(plain);
  const stream = Buffer.concat(messages.map((message) => encodeMessage(message)));
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 30 }), (sizes) => {
      const decoder = new MessageDecoder({ reuseMemory: true });
      const readBuffer = Buffer.alloc(40_000);
      const seen: Message[] = [];
      let offset = 0;
      for (let i = 0; offset < stream.length; i++) {
        const length = stream.copy(readBuffer, 0, offset, offset + sizes[i % sizes.length]!);
        offset += length;
        decoder.push(readBuffer.subarray(0, length));
        // Consumed before the next call, as the session does: copied here.
        for (let message = decoder.next(); message; message = decoder.next()) seen.push(plain(message));
        decoder.detach();
        readBuffer.fill(0xee);
      }
      assert.deepEqual(seen, expected);
    }),
    { numRuns: 300 },
  );
});
