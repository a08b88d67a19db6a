import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { ReadCache } from '../../../src/storage/read-cache.js';
import { makeFixture } from './fixtures.js';

async function setup(maxBytes?: number, pooled = false) {
  const fixture = makeFixture([{ path: ['r'], length: 1000 }], 100);
  const memory = new MemoryStorage(fixture.meta);
  for (let i = 0; i < fixture.meta.pieceCount; i++) await memory.writePiece(i, fixture.blocks(i));
  const calls: string[] = [];
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  const storage = {
    read: async (index: number, begin: number, length: number) => {
      calls.push(`${index}:${begin}+${length}`);
      await tick();
      return memory.read(index, begin, length);
    },
    ...(pooled
      ? {
          readInto: async (index: number, begin: number, target: Buffer) => {
            calls.push(`${index}:${begin}+${target.length} into`);
            await tick();
            return memory.readInto(index, begin, target);
          },
        }
      : {}),
  };
  const cache = new ReadCache(storage, fixture.meta, maxBytes === undefined ? {} : { maxBytes });
  return { fixture, memory, cache, calls };
}

describe('ReadCache', () => {
  test('concurrent block reads of one piece load it once', async () => {
    const { fixture, cache, calls } = await setup();
    const blocks = await Promise.all([0, 25, 50, 75].map((begin) => cache.read(3, begin, 25)));
    assert.deepEqual(Buffer.concat(blocks), fixture.piece(3));
    assert.deepEqual(calls, ['3:0+100']);
    assert.deepEqual(await cache.read(3, 10, 5), fixture.content.subarray(310, 315));
    assert.equal(calls.length, 1);
    assert.equal(cache.byteLength, 100);
  });

  test('evicts the least recently used pieces past the byte budget', async () => {
    const { cache, calls } = await setup(250);
    await cache.read(0, 0, 1);
    await cache.read(1, 0, 1);
    await cache.read(0, 0, 1); // 0 is now the most recent
    await cache.read(2, 0, 1); // evicts 1
    assert.equal(cache.byteLength, 200);
    await cache.read(0, 0, 1);
    await cache.read(1, 0, 1);
    assert.deepEqual(calls, ['0:0+100', '1:0+100', '2:0+100', '1:0+100']);
  });

  test('read failures are not cached, invalidate drops a piece', async () => {
    const { fixture, memory, cache, calls } = await setup();
    memory.delete(4);
    await assert.rejects(cache.read(4, 0, 10), (e: unknown) => isLodestoneError(e));
    await memory.writePiece(4, fixture.blocks(4));
    assert.deepEqual(await cache.read(4, 0, 10), fixture.content.subarray(400, 410));
    cache.invalidate(4);
    assert.equal(cache.byteLength, 0);
    await cache.read(4, 0, 10);
    assert.deepEqual(calls, ['4:0+100', '4:0+100', '4:0+100']);
    cache.clear();
    assert.equal(cache.byteLength, 0);
  });

  test('a piece invalidated while loading is not cached', async () => {
    const { cache, calls } = await setup();
    const loading = cache.read(5, 0, 10);
    cache.invalidate(5);
    await loading;
    assert.equal(cache.byteLength, 0);
    await cache.read(5, 0, 10);
    assert.equal(calls.length, 2);
  });

  test('pieces bigger than the budget bypass the cache; bad ranges throw', async () => {
    const { fixture, cache, calls } = await setup(50);
    assert.deepEqual(await cache.read(2, 10, 20), fixture.content.subarray(210, 230));
    assert.deepEqual(calls, ['2:10+20']);
    assert.equal(cache.byteLength, 0);
    await assert.rejects(cache.read(2, 90, 20), (e: unknown) => isLodestoneError(e));
    await assert.rejects(cache.read(10, 0, 1), (e: unknown) => isLodestoneError(e));
  });

  test('pieces are read into pooled buffers, reused only once evicted and every lease released', async () => {
    const { fixture, cache, calls } = await setup(200, true);
    const a = await cache.lease(0, 0, 100);
    const b = await cache.lease(1, 10, 20);
    assert.deepEqual(calls, ['0:0+100 into', '1:0+100 into']);
    await cache.lease(2, 0, 1).then((lease) => lease.release()); // evicts piece 0, still leased
    assert.equal(cache.pooledBuffers, 0, 'a leased buffer is not reused');
    await cache.lease(3, 0, 1).then((lease) => lease.release()); // evicts piece 1, still leased
    assert.deepEqual(a.block, fixture.piece(0), 'a lease keeps its bytes while the cache moves on');
    assert.deepEqual(b.block, fixture.content.subarray(110, 130));
    a.release();
    a.release(); // twice is harmless
    assert.equal(cache.pooledBuffers, 1);
    b.release();
    assert.equal(cache.pooledBuffers, 2);
    const c = await cache.lease(5, 0, 100); // evicts 2, loads into a pooled buffer
    assert.deepEqual(c.block, fixture.piece(5));
    c.release();
    const plain = await cache.read(6, 0, 100); // a plain read escapes: its buffer is never reused
    for (const piece of [7, 8, 9]) (await cache.lease(piece, 0, 1)).release();
    assert.deepEqual(plain, fixture.piece(6));
    assert.ok(cache.pooledBuffers <= 2, 'the pool never holds more than the budget');
  });

  test('under eviction pressure every lease still holds its own piece', async () => {
    const { fixture, cache } = await setup(200, true);
    const expected = (piece: number, begin: number) =>
      fixture.content.subarray(piece * 100 + begin, piece * 100 + begin + 10);
    // Half the leases are released at once (buffers get recycled mid-storm), half are held.
    const held = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const piece = (i * 7) % 10;
        const begin = (i * 13) % 90;
        const lease = await cache.lease(piece, begin, 10);
        assert.deepEqual(lease.block, expected(piece, begin), `lease ${i} on arrival`);
        if (i % 2 === 1) {
          lease.release();
          return undefined;
        }
        return { lease, piece, begin };
      }),
    );
    for (const entry of held) {
      if (!entry) continue;
      assert.deepEqual(entry.lease.block, expected(entry.piece, entry.begin), 'held lease unchanged');
      entry.lease.release();
    }
    assert.ok(cache.pooledBuffers <= 2);
  });

  test('a piece evicted and recycled before its loader resumes is loaded again, not lent', async () => {
    const fixture = makeFixture([{ path: ['r'], length: 1000 }], 100);
    const memory = new MemoryStorage(fixture.meta);
    for (let i = 0; i < fixture.meta.pieceCount; i++) await memory.writePiece(i, fixture.blocks(i));
    const pending: (() => void)[] = [];
    const storage = {
      read: (index: number, begin: number, length: number) => memory.read(index, begin, length),
      // Each read waits until the test lets it finish, so two can finish in one step.
      readInto: (index: number, begin: number, target: Buffer) =>
        new Promise<void>((resolve) => pending.push(() => resolve(memory.readInto(index, begin, target)))),
    };
    const cache = new ReadCache(storage, fixture.meta, { maxBytes: 100 }); // one piece
    const first = cache.lease(0, 0, 100);
    const second = cache.lease(1, 0, 100);
    await new Promise((resolve) => setImmediate(resolve));
    // Both loads finish together: storing piece 1 evicts piece 0 (no lease yet) and recycles its buffer.
    for (const finish of pending.splice(0)) finish();
    await new Promise((resolve) => setImmediate(resolve));
    const third = cache.lease(2, 0, 100); // loads into piece 0's recycled buffer, if it is free
    let settled = 0;
    for (const lease of [first, second, third]) void lease.then(() => settled++);
    for (let step = 0; settled < 3 && step < 100; step++) {
      for (const finish of pending.splice(0)) finish();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const leases = await Promise.all([first, second, third]);
    assert.deepEqual(leases[0].block, fixture.piece(0), 'the first lease holds piece 0');
    assert.deepEqual(leases[1].block, fixture.piece(1));
    assert.deepEqual(leases[2].block, fixture.piece(2));
  });
});
