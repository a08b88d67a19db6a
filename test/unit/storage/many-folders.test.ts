/**
 * Issue 15, "Torrents with many files": writing files into folders that already exist checks
 * each folder with one realpath, instead of a mkdir and a realpath per level for every file
 * (which made a 100,000-file download spend most of its time in mkdir and realpath).
 */
import assert from 'node:assert/strict';
import * as fsPromises from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileStorage, type FileSystem } from '../../../src/storage/file-storage.js';
import { makeFixture, tempDir } from './fixtures.js';

test('600 files in 6 folders three deep: folders are made once, not once per file', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.after(cleanup);
  const files = Array.from({ length: 600 }, (_, i) => ({
    path: ['t', 'a', 'b', `c${i % 6}`, `f${i}`],
    length: 20,
  }));
  // Pieces of 10 files, written one after the other: only the first piece finds folders missing.
  const fixture = makeFixture(files, 200);
  let mkdirs = 0;
  const counting: FileSystem = {
    stat: fsPromises.stat,
    open: fsPromises.open,
    async mkdir(path, options) {
      mkdirs++;
      return fsPromises.mkdir(path, options);
    },
  };
  const storage = new FileStorage(fixture.meta, dir, { fileSystem: counting });
  for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i));
  await storage.close();
  assert.deepEqual(await readFile(join(dir, 't', 'a', 'b', 'c5', 'f599')), fixture.content.subarray(-20));
  // The root, t, a, b and c0..c5: 10 folders; a few more where the first piece's files race.
  assert.ok(mkdirs < 100, `${mkdirs} mkdir calls for 10 folders (was one per level per file: 2,400)`);
});
