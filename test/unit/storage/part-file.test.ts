/**
 * FileStorage with a file selection: unwanted files are never created, the bytes of wanted
 * pieces that fall in them go to the part file and are read back from it, and they move into
 * the real file when it becomes wanted (the part file is deleted once empty).
 */
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { makeFixture, tempDir } from './fixtures.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** a(10) | b(12) | c(10), pieces of 7: piece 1 spans a|b, piece 2 is all b, piece 3 spans b|c, 4 is c. */
const fixture = () =>
  makeFixture(
    [
      { path: ['t', 'a.bin'], length: 10 },
      { path: ['t', 'b.bin'], length: 12 },
      { path: ['t', 'c.bin'], length: 10 },
    ],
    7,
  );

describe('FileStorage: part file', () => {
  let tmp: { dir: string; cleanup(): Promise<void> };
  let dir: { path: string };
  beforeEach(async () => {
    tmp = await tempDir();
    dir = { path: tmp.dir };
  });
  afterEach(async () => {
    await tmp.cleanup();
  });

  test('slices across a wanted/unwanted boundary: unwanted file never created, read back from the part file', async () => {
    const f = fixture();
    const storage = new FileStorage(f.meta, dir.path);
    await storage.open();
    await storage.setFileSelection([true, false, true]);
    // Pieces touching a and c (0, 1, 3, 4); piece 1 holds 4 bytes of b, piece 3 holds 1.
    for (const piece of [0, 1, 3, 4]) await storage.writePiece(piece, f.blocks(piece, 3));
    assert.equal(await exists(join(dir.path, 't', 'b.bin')), false, 'b.bin is unwanted');
    assert.equal(await exists(storage.partFilePath), true);
    assert.equal(storage.partFilePath, join(dir.path, `.${f.meta.infoHashHex}.parts`));
    for (const piece of [0, 1, 3, 4])
      assert.deepEqual(await storage.read(piece, 0, f.piece(piece).length), f.piece(piece));
    assert.deepEqual(await storage.read(1, 2, 4), f.piece(1).subarray(2, 6), 'a read across the boundary');
    assert.equal(await storage.mayHavePiece(1), true);
    assert.equal(await storage.mayHavePiece(2), false, 'piece 2 is in no file and not in the part file');
    assert.deepEqual(await readFile(join(dir.path, 't', 'a.bin')), f.content.subarray(0, 10));
    assert.deepEqual(await readFile(join(dir.path, 't', 'c.bin')), f.content.subarray(22, 32));
    await storage.close();
    assert.equal(await exists(storage.partFilePath), true, 'kept while it holds pieces');
  });

  test('a file that becomes wanted gets its bytes from the part file, which is then deleted', async () => {
    const f = fixture();
    const storage = new FileStorage(f.meta, dir.path);
    await storage.open();
    await storage.setFileSelection([true, false, true]);
    for (const piece of [0, 1, 3, 4]) await storage.writePiece(piece, f.blocks(piece));
    await storage.setFileSelection([true, true, true]);
    await storage.writePiece(2, f.blocks(2));
    assert.deepEqual(await readFile(join(dir.path, 't', 'b.bin')), f.content.subarray(10, 22));
    assert.equal(await exists(storage.partFilePath), false, 'empty part file deleted');
    for (let piece = 0; piece < f.meta.pieceCount; piece++)
      assert.deepEqual(await storage.read(piece, 0, f.piece(piece).length), f.piece(piece));
    await storage.close();
  });

  test('a later run finds the parked bytes and promotes them (a custom part file path)', async () => {
    const f = fixture();
    const partFile = join(dir.path, 'state', 'x.parts');
    const first = new FileStorage(f.meta, join(dir.path, 'dl'), { partFile });
    await first.open();
    await first.setFileSelection([false, true, false]);
    for (const piece of [1, 2, 3]) await first.writePiece(piece, f.blocks(piece));
    await first.close();
    assert.equal(await exists(join(dir.path, 'dl', 't', 'a.bin')), false);
    assert.equal(await exists(join(dir.path, 'dl', 't', 'c.bin')), false);
    assert.equal(await exists(partFile), true);

    const second = new FileStorage(f.meta, join(dir.path, 'dl'), { partFile });
    await second.open();
    // Parked files stay parked until a selection says otherwise: piece 1 reads whole.
    assert.deepEqual(await second.read(1, 0, 7), f.piece(1));
    await second.setFileSelection([true, false, true]);
    for (const piece of [0, 4]) await second.writePiece(piece, f.blocks(piece));
    assert.deepEqual(await readFile(join(dir.path, 'dl', 't', 'a.bin')), f.content.subarray(0, 10));
    assert.deepEqual(await readFile(join(dir.path, 'dl', 't', 'c.bin')), f.content.subarray(22, 32));
    assert.equal(await exists(partFile), false, 'every parked byte promoted: part file gone');
    await second.close();
  });

  test('a storage closed without being opened leaves an existing part file alone', async () => {
    const f = fixture();
    const first = new FileStorage(f.meta, dir.path);
    await first.open();
    await first.setFileSelection([true, false, true]);
    await first.writePiece(1, f.blocks(1));
    await first.close();
    const bytes = await readFile(first.partFilePath);
    await new FileStorage(f.meta, dir.path).close();
    assert.deepEqual(await readFile(first.partFilePath), bytes);
  });

  test('an unwanted file already on disk keeps being used; a foreign part file is ignored', async () => {
    const f = fixture();
    await writeFile(join(dir.path, `.${f.meta.infoHashHex}.parts`), 'not a part file at all');
    const storage = new FileStorage(f.meta, dir.path);
    await storage.open();
    await storage.writePiece(2, f.blocks(2)); // creates b.bin
    await storage.setFileSelection([true, false, true]);
    await storage.writePiece(1, f.blocks(1));
    assert.deepEqual(
      (await readFile(join(dir.path, 't', 'b.bin'))).subarray(0, 11),
      f.content.subarray(10, 21),
    );
    assert.deepEqual(await storage.read(1, 0, 7), f.piece(1));
    await storage.close();
    assert.equal(await exists(storage.partFilePath), false, 'nothing parked: no part file left');
  });
});
