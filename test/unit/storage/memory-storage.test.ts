import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { makeFixture } from './fixtures.js';

const storageError = (e: unknown) => isLodestoneError(e) && e.code === 'LODESTONE_ERR_STORAGE';

describe('MemoryStorage', () => {
  test('stores pieces and reads any range of them', async () => {
    const fixture = makeFixture([{ path: ['m'], length: 100 }], 32);
    const storage = new MemoryStorage(fixture.meta);
    await storage.open();
    for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i, 5));
    assert.deepEqual(await storage.read(1, 3, 20), fixture.content.subarray(35, 55));
    assert.deepEqual(await storage.read(3, 0, 4), fixture.content.subarray(96, 100));
    assert.equal(storage.byteLength, 100);
    assert.equal(await storage.mayHavePiece(3), true);
    await storage.close();
  });

  test('returns copies, so callers cannot change the store', async () => {
    const fixture = makeFixture([{ path: ['m'], length: 10 }], 10);
    const storage = new MemoryStorage(fixture.meta);
    await storage.writePiece(0, [fixture.piece(0)]);
    const first = await storage.read(0, 0, 10);
    first.fill(0);
    assert.deepEqual(await storage.read(0, 0, 10), fixture.piece(0));
  });

  test('missing pieces, bad ranges and wrong lengths are StorageErrors', async () => {
    const fixture = makeFixture([{ path: ['m'], length: 100 }], 32);
    const storage = new MemoryStorage(fixture.meta);
    await assert.rejects(storage.read(0, 0, 1), storageError);
    assert.equal(await storage.mayHavePiece(0), false);
    await storage.writePiece(0, fixture.blocks(0));
    await assert.rejects(storage.read(0, 30, 3), storageError);
    await assert.rejects(storage.read(4, 0, 1), storageError);
    await assert.rejects(storage.writePiece(3, [Buffer.alloc(32)]), storageError);
    assert.equal(storage.delete(0), true);
    await assert.rejects(storage.read(0, 0, 1), storageError);
  });
});
