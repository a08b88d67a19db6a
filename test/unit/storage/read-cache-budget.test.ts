import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { ReadCache } from '../../../src/storage/read-cache.js';
import { ReadCacheBudget } from '../../../src/storage/read-cache-budget.js';
import { makeFixture } from './fixtures.js';

const PIECE = 1000;

async function torrent(seed: number) {
  const content = Buffer.alloc(10 * PIECE, seed);
  for (let i = 0; i < content.length; i++) content[i] = (i * 7 + seed * 13) & 0xff;
  const fixture = makeFixture([{ path: [`t${seed}`], length: content.length }], PIECE, content);
  const storage = new MemoryStorage(fixture.meta);
  for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i));
  return { fixture, storage, content };
}

describe('ReadCacheBudget: one bound in bytes for every torrent’s read cache', () => {
  test('20 torrents serving at once never hold more than the bound, and serve the right bytes', async () => {
    const budget = new ReadCacheBudget(5 * PIECE);
    const torrents = await Promise.all(Array.from({ length: 20 }, (_, seed) => torrent(seed)));
    const caches = torrents.map((t) => new ReadCache(t.storage, t.fixture.meta, { budget }));
    let checked = 0;
    const checkBound = () => {
      const cached = caches.reduce((sum, cache) => sum + cache.byteLength, 0);
      assert.equal(budget.cachedBytes, cached, 'the budget counts what the caches hold');
      assert.ok(budget.cachedBytes + budget.pooledBytes <= budget.maxBytes);
      checked++;
    };
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        caches.flatMap((cache, t) =>
          Array.from({ length: 10 }, async (_, k) => {
            const index = (k * 3 + round + t) % 10;
            const lease = await cache.lease(index, 100, 200);
            const expected = torrents[t]!.content.subarray(index * PIECE + 100, index * PIECE + 300);
            assert.deepEqual(lease.block, expected);
            checkBound();
            lease.release();
            checkBound();
          }),
        ),
      );
    }
    assert.ok(checked > 0);
    assert.ok(budget.peakBytes <= budget.maxBytes, `peak ${budget.peakBytes} over ${budget.maxBytes}`);
    assert.ok(budget.peakBytes > 0);
    for (const cache of caches) cache.close();
    assert.equal(budget.cachedBytes, 0);
    assert.equal(budget.pooledBytes, 0);
  });

  test('one LRU over all torrents: a piece read again outlives an older piece of another torrent', async () => {
    const budget = new ReadCacheBudget(2 * PIECE);
    const a = await torrent(1);
    const b = await torrent(2);
    const cacheA = new ReadCache(a.storage, a.fixture.meta, { budget });
    const cacheB = new ReadCache(b.storage, b.fixture.meta, { budget });
    await cacheA.read(0, 0, 10);
    await cacheB.read(0, 0, 10);
    await cacheA.read(0, 0, 10); // A's piece is now the most recent
    await cacheB.read(1, 0, 10); // over the bound: B's piece 0 (the oldest) goes
    assert.equal(cacheA.byteLength, PIECE);
    assert.equal(cacheB.byteLength, PIECE);
    assert.equal(budget.cachedBytes, 2 * PIECE);
  });

  test('a busy torrent may use the whole bound while the others are idle', async () => {
    const budget = new ReadCacheBudget(4 * PIECE);
    const busy = await torrent(3);
    const idle = await torrent(4);
    const busyCache = new ReadCache(busy.storage, busy.fixture.meta, { budget });
    new ReadCache(idle.storage, idle.fixture.meta, { budget });
    for (let i = 0; i < 6; i++) await busyCache.read(i, 0, 10);
    assert.equal(busyCache.byteLength, 4 * PIECE);
  });
});
