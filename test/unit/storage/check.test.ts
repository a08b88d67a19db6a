import assert from 'node:assert/strict';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { checkExisting } from '../../../src/storage/check.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { HashPool } from '../../../src/storage/hasher.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import type { CheckProgress, Storage } from '../../../src/storage/types.js';
import { makeFixture, tempDir } from './fixtures.js';

const pool = new HashPool({ workers: 2 });
after(() => pool.destroy());

/** Six files of 40 bytes in pieces of 16: piece p covers stream bytes [16p, 16p + 16). */
const sixFiles = () =>
  makeFixture(
    Array.from({ length: 6 }, (_, i) => ({ path: ['check', `f${i}`], length: 40 })),
    16,
  );

describe('checkExisting', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test('finds valid pieces among corrupt, missing and truncated files', async () => {
    const fixture = sixFiles();
    const { meta } = fixture;
    const storage = new FileStorage(meta, dir);
    for (let i = 0; i < meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i));
    await storage.close();
    // f1 (bytes 40..80) corrupted at byte 50 → piece 3; f3 (120..160) deleted → pieces 7..9;
    // f5 (200..240) truncated to 10 bytes → pieces 13, 14 (piece 12 needs only f5's first 8 bytes).
    const corrupt = Buffer.from(fixture.content.subarray(40, 80));
    corrupt[10] = (corrupt[10]! + 1) & 0xff;
    await writeFile(join(dir, 'check', 'f1'), corrupt);
    await rm(join(dir, 'check', 'f3'));
    await truncate(join(dir, 'check', 'f5'), 10);
    const reads: number[] = [];
    const spy: Storage = {
      open: () => storage.open(),
      close: () => storage.close(),
      writePiece: (i, b) => storage.writePiece(i, b),
      read: (i, begin, length) => {
        reads.push(i);
        return storage.read(i, begin, length);
      },
      mayHavePiece: (i) => storage.mayHavePiece(i),
    };
    const progress: CheckProgress[] = [];
    const have = await checkExisting(meta, spy, pool, {
      onProgress: (p) => progress.push(p),
      concurrency: 3,
    });
    const expected = [0, 1, 2, 4, 5, 6, 10, 11, 12];
    assert.deepEqual([...have.indices()], expected);
    assert.equal(progress.length, meta.pieceCount);
    assert.deepEqual(progress.at(-1), {
      checked: meta.pieceCount,
      valid: expected.length,
      total: meta.pieceCount,
    });
    for (const skipped of [7, 8, 9, 13, 14]) assert.ok(!reads.includes(skipped), `piece ${skipped} not read`);
    await storage.close();
  });

  test('a fresh download folder is all invalid at once, without reading or asking per piece', async () => {
    const fixture = sixFiles();
    const storage = new FileStorage(fixture.meta, dir);
    let reads = 0;
    let perPiece = 0;
    const read = storage.read.bind(storage);
    storage.read = (...args) => {
      reads++;
      return read(...args);
    };
    const mayHavePiece = storage.mayHavePiece.bind(storage);
    storage.mayHavePiece = (index) => {
      perPiece++;
      return mayHavePiece(index);
    };
    const progress: CheckProgress[] = [];
    const have = await checkExisting(fixture.meta, storage, pool, { onProgress: (p) => progress.push(p) });
    assert.equal(have.count, 0);
    assert.equal(reads, 0);
    assert.equal(perPiece, 0);
    const total = fixture.meta.pieceCount;
    assert.deepEqual(progress, [{ checked: total, valid: 0, total }]);
  });

  test('hasAnyData: empty files hold no data; one byte anywhere means a piece-by-piece check', async () => {
    const fixture = sixFiles();
    const storage = new FileStorage(fixture.meta, dir);
    assert.equal(await storage.hasAnyData(), false);
    await storage.writePiece(14, fixture.blocks(14)); // the last piece: only f5 gets bytes
    await storage.close(); // forgets cached sizes
    assert.equal(await storage.hasAnyData(), true);
    await truncate(join(dir, 'check', 'f5'), 0);
    await storage.close();
    assert.equal(await storage.hasAnyData(), false);
    const have = await checkExisting(fixture.meta, storage, pool);
    assert.equal(have.count, 0);
    await storage.close();
  });

  test('works on a storage without mayHavePiece (reads fail → not valid)', async () => {
    const fixture = sixFiles();
    const memory = new MemoryStorage(fixture.meta);
    await memory.writePiece(2, fixture.blocks(2));
    await memory.writePiece(5, [Buffer.alloc(16)]); // wrong data
    const bare: Storage = {
      open: () => memory.open(),
      close: () => memory.close(),
      read: (i, b, l) => memory.read(i, b, l),
      writePiece: (i, b) => memory.writePiece(i, b),
    };
    const have = await checkExisting(fixture.meta, bare, pool, { concurrency: 1 });
    assert.deepEqual([...have.indices()], [2]);
  });

  test('an aborted signal stops the check with LODESTONE_ERR_ABORTED', async () => {
    const fixture = sixFiles();
    const memory = new MemoryStorage(fixture.meta);
    await memory.writePiece(0, fixture.blocks(0)); // some data, so the check goes piece by piece
    const controller = new AbortController();
    let seen = 0;
    const check = checkExisting(fixture.meta, memory, pool, {
      signal: controller.signal,
      onProgress: () => {
        if (++seen === 2) controller.abort();
      },
    });
    await assert.rejects(check, (e: unknown) => isLodestoneError(e) && e.code === 'LODESTONE_ERR_ABORTED');
    assert.ok(seen < fixture.meta.pieceCount);
    await assert.rejects(
      checkExisting(fixture.meta, memory, pool, { signal: AbortSignal.abort() }),
      (e: unknown) => isLodestoneError(e) && e.code === 'LODESTONE_ERR_ABORTED',
    );
  });
});
