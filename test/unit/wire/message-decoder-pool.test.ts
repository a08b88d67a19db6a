/**
 * MessageDecoder with `reuseMemory`: the buffers it copies into are lent by a pool, held only
 * while bytes are pending, and the read buffer handed to `push` may be one buffer shared by every
 * connection (a dialled socket's `onread`), overwritten by the next read of any of them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BufferPool, encodeMessage, type Message, MessageDecoder } from '../../../src/wire/index.js';

const BLOCK = 16 * 1024;

/** `count` piece messages whose blocks are filled with `fill` and their own index (never 0xee). */
function pieceStream(fill: number, count: number): Buffer {
  return Buffer.concat(
    Array.from({ length: count }, (_, i) =>
      encodeMessage({ type: 'piece', index: i, begin: 0, block: Buffer.alloc(BLOCK, (fill + i) % 200) }),
    ),
  );
}

/** What a session keeps of a message: copied, as the contract asks. */
function keep(message: Message): string {
  if (message.type !== 'piece') return message.type;
  const first = message.block[0]!;
  return `${message.index}:${message.block.length}:${message.block.every((b) => b === first) ? first : 'torn'}`;
}

test('two connections reading interleaved through one shared read buffer never see each other’s bytes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 20 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }),
      (sizes, turns) => {
        const pool = new BufferPool(BLOCK + 64, 4);
        const shared = Buffer.alloc(40_000); // one read buffer for both, as dial.ts's onread
        const streams = [pieceStream(10, 6), pieceStream(100, 6)];
        const decoders = [0, 1].map(() => new MessageDecoder({ reuseMemory: true, pool }));
        const offsets = [0, 0];
        const seen: string[][] = [[], []];
        for (let i = 0; offsets[0]! < streams[0]!.length || offsets[1]! < streams[1]!.length; i++) {
          let who = turns[i % turns.length]! ? 1 : 0;
          if (offsets[who]! >= streams[who]!.length) who = 1 - who;
          const stream = streams[who]!;
          const length = stream.copy(shared, 0, offsets[who]!, offsets[who]! + sizes[i % sizes.length]!);
          offsets[who]! += length;
          const decoder = decoders[who]!;
          decoder.push(shared.subarray(0, length));
          for (let message = decoder.next(); message; message = decoder.next())
            seen[who]!.push(keep(message));
          decoder.detach();
          shared.fill(0xee); // the next read, of either connection, overwrites it
        }
        const expected = (fill: number) =>
          Array.from({ length: 6 }, (_, i) => `${i}:${BLOCK}:${(fill + i) % 200}`);
        assert.deepEqual(seen[0], expected(10));
        assert.deepEqual(seen[1], expected(100));
      },
    ),
    { numRuns: 200 },
  );
});

test('a piece message split across three reads of a reused buffer decodes', () => {
  const pool = new BufferPool(BLOCK + 64, 4);
  const decoder = new MessageDecoder({ reuseMemory: true, pool });
  const stream = Buffer.concat([pieceStream(7, 1), encodeMessage({ type: 'have', index: 3 })]);
  const read = Buffer.alloc(stream.length);
  const seen: string[] = [];
  for (const [from, to] of [
    [0, 3], // not even the length prefix
    [3, 9000],
    [9000, stream.length],
  ] as const) {
    const length = stream.copy(read, 0, from, to);
    decoder.push(read.subarray(0, length));
    for (let message = decoder.next(); message; message = decoder.next()) seen.push(keep(message));
    decoder.detach();
    read.fill(0xee);
  }
  assert.deepEqual(seen, [`0:${BLOCK}:7`, 'have']);
});

test('an idle decoder holds no buffer: the tail and the scratch go back to the pool once consumed', () => {
  const pool = new BufferPool(BLOCK + 64, 4);
  const decoder = new MessageDecoder({ reuseMemory: true, pool });
  const stream = pieceStream(1, 2);
  const read = Buffer.alloc(stream.length);
  // The first piece straddles two reads (tail kept, block joined); the second read ends on a boundary.
  for (const [from, to] of [
    [0, 5000],
    [5000, stream.length],
  ] as const) {
    const length = stream.copy(read, 0, from, to);
    decoder.push(read.subarray(0, length));
    for (let message = decoder.next(); message; message = decoder.next()) keep(message);
    decoder.detach();
  }
  assert.ok(pool.allocatedCount >= 1, 'the straddling piece borrowed a buffer');
  assert.equal(pool.freeCount, pool.allocatedCount, 'every borrowed buffer is back in the pool');
  assert.equal(decoder.bufferedBytes, 0);
});

test('a download through the pool allocates a bounded number of buffers, not one per read', () => {
  const pool = new BufferPool(BLOCK + 64, 4);
  const decoders = [0, 1, 2].map(() => new MessageDecoder({ reuseMemory: true, pool }));
  const stream = pieceStream(3, 64);
  const read = Buffer.alloc(48_000);
  let reads = 0;
  for (const decoder of decoders) {
    // Reads of 5,000 to 45,000 bytes: most end inside a piece, some on a boundary.
    for (let offset = 0, i = 0; offset < stream.length; i++) {
      const length = stream.copy(read, 0, offset, offset + 5000 + ((i * 7919) % 40_000));
      offset += length;
      reads++;
      decoder.push(read.subarray(0, length));
      for (let message = decoder.next(); message; message = decoder.next()) keep(message);
      decoder.detach();
    }
  }
  assert.ok(reads > 100);
  assert.ok(pool.allocatedCount <= 2, `${pool.allocatedCount} buffers allocated for ${reads} reads`);
});

test('the pool keeps at most maxFree buffers and ignores buffers of another size', () => {
  const pool = new BufferPool(100, 2);
  const taken = [pool.take(), pool.take(), pool.take()];
  for (const buffer of taken) pool.give(buffer);
  pool.give(Buffer.alloc(50));
  assert.equal(pool.freeCount, 2);
  assert.equal(pool.allocatedCount, 3);
  assert.equal(pool.take().length, 100);
  assert.equal(pool.allocatedCount, 3);
});
