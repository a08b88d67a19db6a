import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as fsPromises from 'node:fs/promises';
import { access, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { FileLayout } from '../../../src/storage/file-layout.js';
import { FileStorage, type FileSystem } from '../../../src/storage/file-storage.js';
import { sharedWriteThread, WriteThread } from '../../../src/storage/write-thread.js';
import { makeFixture, tempDir } from './fixtures.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Whether open flags (a string like 'r' or O_* bits) ask for reading only. */
const isReadOnly = (flags: string | number) =>
  typeof flags === 'string' ? flags === 'r' : (flags & (constants.O_WRONLY | constants.O_RDWR)) === 0;

function errorWithCode(code: string) {
  return (error: unknown) => isLodestoneError(error) && error.code === code;
}

/** a(10) | empty(0) | b(5) | c(20): piece 0 (16 bytes) spans a, b and c plus the empty file. */
const threeFiles = () =>
  makeFixture(
    [
      { path: ['t', 'a.bin'], length: 10 },
      { path: ['t', 'sub', 'empty.txt'], length: 0 },
      { path: ['t', 'b.bin'], length: 5 },
      { path: ['t', 'sub', 'deep', 'c.bin'], length: 20 },
    ],
    16,
  );

describe('FileLayout', () => {
  test('maps a piece onto three files, skipping the zero-length one', () => {
    const layout = new FileLayout(threeFiles().meta);
    assert.deepEqual(layout.ranges(0), [
      { fileIndex: 0, fileOffset: 0, pieceOffset: 0, length: 10 },
      { fileIndex: 2, fileOffset: 0, pieceOffset: 10, length: 5 },
      { fileIndex: 3, fileOffset: 0, pieceOffset: 15, length: 1 },
    ]);
    assert.deepEqual(layout.ranges(1), [{ fileIndex: 3, fileOffset: 1, pieceOffset: 0, length: 16 }]);
    assert.deepEqual(layout.ranges(2), [{ fileIndex: 3, fileOffset: 17, pieceOffset: 0, length: 3 }]);
    assert.deepEqual(layout.ranges(0, 9, 3), [
      { fileIndex: 0, fileOffset: 9, pieceOffset: 9, length: 1 },
      { fileIndex: 2, fileOffset: 0, pieceOffset: 10, length: 2 },
    ]);
    assert.deepEqual(layout.emptyFilesAt(0), [1]);
    assert.deepEqual(layout.emptyFilesAt(1), []);
    assert.throws(() => layout.ranges(2, 0, 4), errorWithCode('LODESTONE_ERR_STORAGE'));
    assert.throws(() => layout.ranges(3), errorWithCode('LODESTONE_ERR_STORAGE'));
  });

  test('rejects files whose offsets do not add up', () => {
    const { meta } = threeFiles();
    const broken = { ...meta, files: meta.files.map((f, i) => (i === 3 ? { ...f, offset: 99 } : f)) };
    assert.throws(() => new FileLayout(broken), errorWithCode('LODESTONE_ERR_STORAGE'));
  });
});

describe('FileStorage', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  // Every writer: the shared write thread (the default), a thread of its own, and the handles' own write().
  for (const [label, writeThread] of [
    ['shared write thread', undefined],
    ['own write thread', new WriteThread()],
    ['no write thread', false],
  ] as const) {
    test(`writes and reads pieces across file boundaries (${label})`, async () => {
      const fixture = threeFiles();
      const storage = new FileStorage(fixture.meta, dir, writeThread === undefined ? {} : { writeThread });
      const thread = writeThread === undefined ? sharedWriteThread() : writeThread;
      await storage.open();
      // Blocks of 3 bytes so block edges and file edges differ.
      for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i, 3));
      if (thread) assert.ok(thread.running, 'the pieces went through the write thread');
      assert.deepEqual(await storage.read(0, 0, 16), fixture.piece(0));
      assert.deepEqual(await storage.read(0, 8, 8), fixture.content.subarray(8, 16));
      assert.deepEqual(await storage.read(2, 1, 2), fixture.content.subarray(33, 35));
      await storage.close();
      if (writeThread) await writeThread.close();
      assert.deepEqual(await readFile(join(dir, 't', 'a.bin')), fixture.content.subarray(0, 10));
      assert.deepEqual(await readFile(join(dir, 't', 'b.bin')), fixture.content.subarray(10, 15));
      assert.deepEqual(
        await readFile(join(dir, 't', 'sub', 'deep', 'c.bin')),
        fixture.content.subarray(15, 35),
      );
      assert.equal((await stat(join(dir, 't', 'sub', 'empty.txt'))).size, 0);
    });
  }

  test('creates files lazily, at their full length', async () => {
    const fixture = threeFiles();
    const storage = new FileStorage(fixture.meta, dir);
    await storage.open();
    assert.equal(await exists(join(dir, 't')), false, 'open() creates nothing');
    await storage.writePiece(1, fixture.blocks(1));
    await storage.close();
    const c = join(dir, 't', 'sub', 'deep', 'c.bin');
    assert.equal((await stat(c)).size, 20);
    assert.deepEqual((await readFile(c)).subarray(1, 17), fixture.piece(1));
    assert.equal(await exists(join(dir, 't', 'a.bin')), false);
    assert.equal(await exists(join(dir, 't', 'sub', 'empty.txt')), false);
  });

  test('never writes padding files and reads them as zeros', async () => {
    const fixture = makeFixture(
      [
        { path: ['p', 'a'], length: 10 },
        { path: ['p', '.pad', '6'], length: 6, padding: true },
        { path: ['p', 'b'], length: 16 },
      ],
      16,
    );
    const storage = new FileStorage(fixture.meta, dir);
    await storage.writePiece(0, fixture.blocks(0, 4));
    await storage.writePiece(1, fixture.blocks(1, 4));
    assert.equal(await exists(join(dir, 'p', '.pad')), false);
    const piece0 = await storage.read(0, 0, 16);
    assert.deepEqual(piece0, fixture.piece(0));
    assert.deepEqual(piece0.subarray(10), Buffer.alloc(6));
    assert.equal(await storage.mayHavePiece(0), true);
    await storage.close();
  });

  test('a missing file reads as LODESTONE_ERR_STORAGE', async () => {
    const fixture = threeFiles();
    const storage = new FileStorage(fixture.meta, dir);
    await storage.open();
    await assert.rejects(storage.read(0, 0, 4), (error: unknown) => {
      assert.ok(isLodestoneError(error));
      assert.equal(error.code, 'LODESTONE_ERR_STORAGE');
      assert.match(error.message, /a\.bin/);
      return true;
    });
    await storage.close();
  });

  test('a file shorter than expected reads as LODESTONE_ERR_STORAGE', async () => {
    const fixture = threeFiles();
    const storage = new FileStorage(fixture.meta, dir);
    for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i));
    await storage.close();
    await truncate(join(dir, 't', 'sub', 'deep', 'c.bin'), 10);
    await assert.rejects(storage.read(1, 0, 16), errorWithCode('LODESTONE_ERR_STORAGE'));
    assert.deepEqual(await storage.read(0, 0, 16), fixture.piece(0));
    await storage.close();
  });

  test('mayHavePiece: false for missing or short files, true once written', async () => {
    const fixture = threeFiles();
    const storage = new FileStorage(fixture.meta, dir);
    assert.equal(await storage.mayHavePiece(0), false);
    await storage.writePiece(1, fixture.blocks(1));
    assert.equal(await storage.mayHavePiece(0), false, 'a.bin and b.bin are missing');
    assert.equal(await storage.mayHavePiece(1), true);
    assert.equal(await storage.mayHavePiece(2), true, 'c.bin has its full length, content unknown');
    await storage.close();
  });

  test('rejects paths escaping the root', async () => {
    for (const path of [['..', 'evil'], ['t', '..', '..', 'evil'], ['/etc/passwd'], ['t', ''], ['a\0b']]) {
      const fixture = makeFixture([{ path, length: 4 }], 4);
      const storage = new FileStorage(fixture.meta, join(dir, 'root'));
      await assert.rejects(storage.open(), errorWithCode('LODESTONE_ERR_UNSAFE_PATH'), path.join('/'));
      await assert.rejects(
        storage.writePiece(0, [fixture.piece(0)]),
        errorWithCode('LODESTONE_ERR_UNSAFE_PATH'),
      );
      await assert.rejects(storage.read(0, 0, 4), errorWithCode('LODESTONE_ERR_UNSAFE_PATH'));
    }
    assert.equal(await exists(join(dir, 'evil')), false);
  });

  test('rejects a piece of the wrong length', async () => {
    const fixture = threeFiles();
    const storage = new FileStorage(fixture.meta, dir);
    await assert.rejects(storage.writePiece(0, [Buffer.alloc(15)]), errorWithCode('LODESTONE_ERR_STORAGE'));
    await assert.rejects(storage.writePiece(7, [Buffer.alloc(16)]), errorWithCode('LODESTONE_ERR_STORAGE'));
  });

  test('concurrent writes through a tiny handle cache keep every byte', async () => {
    const files = Array.from({ length: 9 }, (_, i) => ({ path: ['many', `f${i}`], length: 7 + i * 3 }));
    const fixture = makeFixture(files, 8);
    let open = 0;
    let maxOpen = 0;
    const counting: FileSystem = {
      mkdir: fsPromises.mkdir,
      stat: fsPromises.stat,
      async open(path, flags, mode) {
        const handle = await fsPromises.open(path, flags, mode);
        open++;
        maxOpen = Math.max(maxOpen, open);
        const close = handle.close.bind(handle);
        handle.close = async () => {
          open--;
          return close();
        };
        return handle;
      },
    };
    const storage = new FileStorage(fixture.meta, dir, { maxOpenFiles: 2, fileSystem: counting });
    const indices = Array.from({ length: fixture.meta.pieceCount }, (_, i) => i);
    await Promise.all(indices.map((i) => storage.writePiece(i, fixture.blocks(i, 3))));
    const pieces = await Promise.all(indices.map((i) => storage.read(i, 0, fixture.piece(i).length)));
    assert.deepEqual(Buffer.concat(pieces), fixture.content);
    await storage.close();
    assert.equal(open, 0, 'close() closes every handle');
    // Sequential use stays within the cap.
    maxOpen = 0;
    for (const i of indices) await storage.read(i, 0, fixture.piece(i).length);
    assert.ok(maxOpen <= 2, `at most 2 open handles, saw ${maxOpen}`);
    await storage.close();
  });

  describe('error mapping (simulated with a fake file system)', () => {
    function failingFs(code: string, on: 'open' | 'write'): FileSystem {
      const fail = () => Object.assign(new Error(`${code}: simulated`), { code });
      return {
        mkdir: fsPromises.mkdir,
        stat: fsPromises.stat,
        async open(path, flags, mode) {
          if (on === 'open' && !isReadOnly(flags)) throw fail();
          const handle = await fsPromises.open(path, flags, mode);
          if (on === 'write') {
            return new Proxy(handle, {
              get(target, property) {
                if (property === 'write' || property === 'writev') return async () => Promise.reject(fail());
                const value = Reflect.get(target, property, target);
                return typeof value === 'function' ? value.bind(target) : value;
              },
            }) as FileHandle;
          }
          return handle;
        },
      };
    }

    // A real full disk needs a tiny filesystem (root + mount); faking the errno is the portable way.
    test('ENOSPC becomes LODESTONE_ERR_DISK_FULL', async () => {
      const fixture = threeFiles();
      const storage = new FileStorage(fixture.meta, dir, { fileSystem: failingFs('ENOSPC', 'write') });
      await assert.rejects(storage.writePiece(1, fixture.blocks(1)), (error: unknown) => {
        assert.ok(isLodestoneError(error));
        assert.equal(error.code, 'LODESTONE_ERR_DISK_FULL');
        assert.match(error.message, /disk full/);
        assert.match(error.message, /c\.bin/);
        return true;
      });
      await storage.close();
    });

    test('a real ENOSPC from the write thread becomes LODESTONE_ERR_DISK_FULL', async (t) => {
      let full: FileHandle;
      try {
        full = await fsPromises.open('/dev/full', 'w');
      } catch {
        t.skip('no /dev/full here');
        return;
      }
      // Real files, but every write descriptor is /dev/full's, so the kernel itself answers ENOSPC.
      const toFullDisk: FileSystem = {
        mkdir: fsPromises.mkdir,
        stat: fsPromises.stat,
        async open(path, flags, mode) {
          const handle = await fsPromises.open(path, flags, mode);
          if (isReadOnly(flags)) return handle;
          return new Proxy(handle, {
            get(target, property) {
              if (property === 'fd') return full.fd;
              const value = Reflect.get(target, property, target);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          }) as FileHandle;
        },
      };
      const fixture = threeFiles();
      const thread = new WriteThread();
      const storage = new FileStorage(fixture.meta, dir, { fileSystem: toFullDisk, writeThread: thread });
      try {
        await assert.rejects(storage.writePiece(1, fixture.blocks(1)), (error: unknown) => {
          assert.ok(isLodestoneError(error));
          assert.equal(error.code, 'LODESTONE_ERR_DISK_FULL');
          assert.match(error.message, /disk full: no space left to write .*c\.bin/);
          return true;
        });
      } finally {
        await storage.close();
        await thread.close();
        await full.close();
      }
    });

    test('EACCES and EROFS become LODESTONE_ERR_IO with the path', async () => {
      const fixture = threeFiles();
      // Piece 0 spans a.bin, b.bin and c.bin, opened concurrently: the error names whichever failed first.
      const cases = [
        ['EACCES', /cannot write to .*[abc]\.bin: permission denied/],
        ['EROFS', /cannot write to .*[abc]\.bin: read-only file system/],
      ] as const;
      for (const [code, message] of cases) {
        const storage = new FileStorage(fixture.meta, dir, { fileSystem: failingFs(code, 'open') });
        await assert.rejects(storage.writePiece(0, fixture.blocks(0)), (error: unknown) => {
          assert.ok(isLodestoneError(error));
          assert.equal(error.code, 'LODESTONE_ERR_IO');
          assert.match(error.message, message);
          return true;
        });
        await storage.close();
      }
    });
  });
});
