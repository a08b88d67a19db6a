import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { ReadCache } from '../../../src/storage/read-cache.js';
import { makeFixture } from './fixtures.js';

async function setup(maxBytes?: number) {
  const fixture = makeFixture([{ path: ['r'], length: 1000 }], 100);
  const memory = new MemoryStorage(fixture.meta);
  for (let i = 0; i < fixture.meta.pieceCount; i++) await memory.writePiece(i, fixture.blocks(i));
  const calls: string[] = [];
  const storage = {
    read: async (index: number, begin: number, length: number) => {
      calls.push(`${index}:${begin}+${length}`);
      await new Promise((resolve) => setImmediate(resolve));
      return memory.read(index, begin, length);
    },
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
});
