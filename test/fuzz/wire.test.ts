import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Encodable, encode } from '../../src/bencode/index.js';
import { LodestoneError, WireError } from '../../src/errors.js';
import { decodeExtensionHandshake } from '../../src/wire/extension.js';
import { encodeMessage, MessageDecoder } from '../../src/wire/message-codec.js';
import type { Message } from '../../src/wire/types.js';
import { decodeMetadataMessage } from '../../src/wire/ut-metadata.js';
import { concat, plain } from '../unit/wire/samples.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

const MESSAGE_TYPES = new Set<string>([
  'keep-alive',
  'choke',
  'unchoke',
  'interested',
  'not-interested',
  'have',
  'bitfield',
  'request',
  'piece',
  'cancel',
  'port',
  'suggest',
  'have-all',
  'have-none',
  'reject',
  'allowed-fast',
  'extended',
  'unknown',
]);

const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const blockRef = fc.record({ index: uint32, begin: uint32, length: uint32 });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

const messageArbitrary: fc.Arbitrary<Message> = fc.oneof(
  fc.constantFrom<Message>(
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'not-interested' },
    { type: 'have-all' },
    { type: 'have-none' },
  ),
  fc.record({
    type: fc.constantFrom('have', 'suggest', 'allowed-fast'),
    index: uint32,
  }) as fc.Arbitrary<Message>,
  blockRef.chain((ref) =>
    fc.constantFrom<Message>(
      { type: 'request', ...ref },
      { type: 'cancel', ...ref },
      { type: 'reject', ...ref },
    ),
  ),
  fc.record({ type: fc.constant('bitfield' as const), bits: bytes(64) }),
  fc.record({ type: fc.constant('piece' as const), index: uint32, begin: uint32, block: bytes(300) }),
  fc.record({ type: fc.constant('port' as const), port: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({
    type: fc.constant('extended' as const),
    id: fc.integer({ min: 0, max: 255 }),
    payload: bytes(64),
  }),
  fc.record({
    type: fc.constant('unknown' as const),
    id: fc.integer({ min: 21, max: 255 }),
    length: fc.integer({ min: 1, max: 200 }),
  }),
);

/** Splits `stream` at the given positions (taken modulo its length, sorted). */
function split(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let previous = 0;
  for (const point of [...points, stream.length]) {
    parts.push(stream.subarray(previous, point));
    previous = point;
  }
  return parts;
}

/** Frames with plausible (small) length prefixes and ids but payloads of any size. */
const plausibleStream = fc
  .array(
    fc.record({
      length: fc.integer({ min: 0, max: 40 }),
      id: fc.integer({ min: 0, max: 25 }),
      payload: bytes(40),
    }),
    { maxLength: 12 },
  )
  .map((frames) =>
    concat(
      frames.map(({ length, id, payload }) => {
        const head = Buffer.alloc(5);
        head.writeUInt32BE(length, 0);
        head[4] = id;
        return concat([head, payload]);
      }),
    ),
  );
const plausibleJunk = fc
  .tuple(plausibleStream, fc.array(fc.nat(), { maxLength: 20 }))
  .map(([stream, cuts]) => split(stream, cuts));

/** Everything the decoder makes of `chunks`: the messages, then 'error' if it threw a WireError. */
function decodeChunks(chunks: Uint8Array[], options: { pieceCount?: number } = {}): (Message | 'error')[] {
  const decoder = new MessageDecoder(options);
  const out: (Message | 'error')[] = [];
  try {
    for (const chunk of chunks) {
      decoder.push(chunk);
      for (const message of decoder) out.push(plain(message));
    }
  } catch (error) {
    if (!(error instanceof WireError)) throw error;
    out.push('error');
  }
  return out;
}

test('what the decoder makes of any bytes does not depend on how they are split', () => {
  fc.assert(
    fc.property(
      fc.oneof(plausibleStream, bytes(100)),
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
      (stream, cuts, pieceCount) => {
        assert.deepStrictEqual(
          decodeChunks(split(stream, cuts), { pieceCount }),
          decodeChunks([stream], { pieceCount }),
        );
      },
    ),
    { numRuns },
  );
});

test('arbitrary chunks into MessageDecoder yield messages or a WireError, nothing else', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.array(bytes(40), { maxLength: 20 }), plausibleJunk),
      fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
      (chunks, pieceCount, maxMessageLength) => {
        const decoder = new MessageDecoder({ pieceCount, maxMessageLength });
        let pushed = 0;
        try {
          for (const chunk of chunks) {
            decoder.push(chunk);
            pushed += chunk.length;
            for (const message of decoder) {
              assert.ok(MESSAGE_TYPES.has(message.type), message.type);
              assert.ok(decoder.bufferedBytes >= 0 && decoder.bufferedBytes <= pushed);
            }
          }
        } catch (error) {
          if (!(error instanceof WireError)) throw error;
        }
      },
    ),
    { numRuns },
  );
});

test('any segmentation of a valid stream decodes to the same messages', () => {
  fc.assert(
    fc.property(
      fc.array(messageArbitrary, { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (messages, cuts) => {
        const stream = concat(messages.map(encodeMessage));
        const decoder = new MessageDecoder();
        const out: Message[] = [];
        for (const part of split(stream, cuts)) {
          decoder.push(part);
          for (const message of decoder) out.push(plain(message));
        }
        assert.deepStrictEqual(out, messages.map(plain));
        assert.equal(decoder.bufferedBytes, 0);
      },
    ),
    { numRuns },
  );
});

/** Bencode documents shaped roughly like extension handshakes and ut_metadata messages. */
const bencodeValue: fc.Arbitrary<Encodable> = fc.letrec<{ value: Encodable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer({ min: -1000, max: 100_000 }),
    bytes(20),
    fc.constantFrom('ut_metadata', 'ut_pex', 'Lodestone'),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(
      fc.constantFrom(
        'm',
        'v',
        'p',
        'reqq',
        'yourip',
        'ipv4',
        'ipv6',
        'metadata_size',
        'msg_type',
        'piece',
        'total_size',
        'x',
      ),
      tie('value'),
      { maxKeys: 6 },
    ),
  ),
})).value;

const payloadArbitrary = fc.oneof(
  bytes(100),
  fc.tuple(bencodeValue, bytes(30)).map(([value, tail]) => concat([encode(value), tail])),
  bencodeValue.map((value) => new Uint8Array(encode(value))),
);

function valueOrLodestoneError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof LodestoneError)) throw error;
  }
}

test('arbitrary payloads into decodeExtensionHandshake: a value or a LodestoneError', () => {
  fc.assert(
    fc.property(payloadArbitrary, (payload) => {
      valueOrLodestoneError(() => {
        const handshake = decodeExtensionHandshake(payload);
        for (const id of handshake.m.values()) assert.ok(Number.isInteger(id) && id >= 0 && id <= 255);
      });
    }),
    { numRuns },
  );
});

test('arbitrary payloads into decodeMetadataMessage: a value or a LodestoneError', () => {
  fc.assert(
    fc.property(payloadArbitrary, (payload) => {
      valueOrLodestoneError(() => {
        const message = decodeMetadataMessage(payload);
        if (message.msgType === 'data') assert.ok(message.data.length <= 16384);
      });
    }),
    { numRuns },
  );
});
