/**
 * Issue 15, "Torrents with many files": the files a process holds open are bounded in total
 * (a HandleBudget shared by every FileStorage), even when one piece spans 1,000 files, several
 * storages work at once and zero-length files are created along the way.
 */
import assert from 'node:assert/strict';
import * as fsPromises from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FileStorage, type FileSystem } from '../../../src/storage/file-storage.js';
import {
  DEFAULT_MAX_OPEN_FILES,
  defaultMaxOpenFiles,
  HandleBudget,
  softOpenFileLimit,
} from '../../../src/storage/handle-budget.js';
import { makeFixture, tempDir } from './fixtures.js';

/** node:fs/promises, counting the handles open right now and the most ever open at once. */
function countingFs(): FileSystem & { open_: number; peak: number } {
  const counter = {
    open_: 0,
    peak: 0,
    mkdir: fsPromises.mkdir,
    stat: fsPromises.stat,
    async open(path: string, flags: string | number, mode?: number) {
      const handle = await fsPromises.open(path, flags, mode);
      counter.open_++;
      counter.peak = Math.max(counter.peak, counter.open_);
      const close = handle.close.bind(handle);
      handle.close = async () => {
        counter.open_--;
        return close();
      };
      return handle;
    },
  };
  return counter;
}

/** 1,000 files of 16 bytes (every 10th empty, in folders of 50) in pieces of 16 KiB: one piece spans them all. */
function thousandFiles(name: string) {
  const files = Array.from({ length: 1000 }, (_, i) => ({
    path: [name, `d${Math.floor(i / 50)}`, `f${i}`],
    length: i % 10 === 3 ? 0 : 16,
  }));
  return makeFixture(files, 16 * 1024);
}

describe('HandleBudget: open files bounded in total', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test('a piece spanning 1,000 files, written and read by two storages at once, never holds more than the budget', {
    timeout: 30_000,
  }, async () => {
    const budget = new HandleBudget(16);
    const fs = countingFs();
    const fixtures = [thousandFiles('one'), thousandFiles('two')];
    assert.equal(fixtures[0]!.meta.pieceCount, 1, 'one piece spans every file');
    // A per-storage LRU larger than the budget: the budget alone must hold the bound.
    const storages = fixtures.map(
      (fixture) =>
        new FileStorage(fixture.meta, dir, { maxOpenFiles: 64, fileSystem: fs, handleBudget: budget }),
    );
    await Promise.all(storages.map((storage) => storage.open()));
    await Promise.all(storages.map((storage, k) => storage.writePiece(0, fixtures[k]!.blocks(0, 1000))));
    const read = await Promise.all(
      storages.map((storage, k) => storage.read(0, 0, fixtures[k]!.meta.totalLength)),
    );
    for (const [k, bytes] of read.entries()) assert.deepEqual(bytes, fixtures[k]!.content);
    assert.ok(fs.peak <= 16, `at most 16 files open at once, saw ${fs.peak}`);
    assert.ok(budget.peak <= 16, `the budget never gave out more than 16 slots, gave ${budget.peak}`);
    assert.ok(fs.peak >= 8, `the budget was used (${fs.peak} open at the peak)`);
    await Promise.all(storages.map((storage) => storage.close()));
    assert.equal(fs.open_, 0, 'close() closes every handle');
    assert.equal(budget.used, 0, 'every slot is back');
    // Byte-exact on disk, and the empty files exist.
    assert.deepEqual(await readFile(join(dir, 'two', 'd19', 'f999')), fixtures[1]!.content.subarray(-16));
    assert.equal((await readFile(join(dir, 'one', 'd0', 'f3'))).length, 0);
  });

  test('idle handles of one storage are given back when another needs a slot (no deadlock)', {
    timeout: 30_000,
  }, async () => {
    const budget = new HandleBudget(4);
    const fs = countingFs();
    const first = thousandFiles('first');
    const second = thousandFiles('second');
    const a = new FileStorage(first.meta, dir, { maxOpenFiles: 32, fileSystem: fs, handleBudget: budget });
    const b = new FileStorage(second.meta, dir, { maxOpenFiles: 32, fileSystem: fs, handleBudget: budget });
    await a.writePiece(0, first.blocks(0));
    // Files 0, 1, 2 and 4 (3 is empty): four handles, opened without contention, then idle.
    assert.deepEqual(await a.read(0, 0, 64), first.content.subarray(0, 64));
    assert.equal(budget.used, 4, 'storage a keeps 4 idle handles, all the budget');
    await b.writePiece(0, second.blocks(0));
    assert.deepEqual(await b.read(0, 0, second.meta.totalLength), second.content);
    assert.deepEqual(await a.read(0, 0, first.meta.totalLength), first.content);
    assert.ok(fs.peak <= 4, `at most 4 open, saw ${fs.peak}`);
    await Promise.all([a.close(), b.close()]);
    assert.equal(budget.used, 0);
  });

  test('a failed open gives its slot back', async () => {
    const budget = new HandleBudget(1);
    const fixture = thousandFiles('x');
    const failing: FileSystem = {
      mkdir: fsPromises.mkdir,
      stat: fsPromises.stat,
      open: async () => {
        throw Object.assign(new Error('EACCES: simulated'), { code: 'EACCES' });
      },
    };
    const storage = new FileStorage(fixture.meta, dir, { fileSystem: failing, handleBudget: budget });
    await assert.rejects(storage.writePiece(0, fixture.blocks(0)));
    await storage.close();
    assert.equal(budget.used, 0);
  });
});

describe('HandleBudget (pure)', () => {
  test('slots are handed out in order once the limit is reached', async () => {
    const budget = new HandleBudget(2);
    await budget.acquire();
    await budget.acquire();
    const order: number[] = [];
    const third = budget.acquire().then(() => order.push(3));
    const fourth = budget.acquire().then(() => order.push(4));
    assert.equal(budget.contended, true);
    budget.release();
    await third;
    assert.deepEqual(order, [3]);
    assert.equal(budget.used, 2);
    budget.release();
    await fourth;
    assert.deepEqual(order, [3, 4]);
    assert.equal(budget.peak, 2);
  });

  test('default: 128 files, or a quarter of the soft limit when lower, at least 8', () => {
    assert.equal(defaultMaxOpenFiles(undefined), DEFAULT_MAX_OPEN_FILES);
    assert.equal(defaultMaxOpenFiles(20_000), 128);
    assert.equal(defaultMaxOpenFiles(256), 64);
    assert.equal(defaultMaxOpenFiles(16), 8);
    assert.equal(defaultMaxOpenFiles(Number.POSITIVE_INFINITY), 128);
  });

  test('the soft limit is read from /proc/self/limits', () => {
    const limits = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             95970                95970                processes ',
      'Max open files            1024                 4096                 files     ',
    ].join('\n');
    assert.equal(
      softOpenFileLimit(() => limits),
      1024,
    );
    assert.equal(
      softOpenFileLimit(() => limits.replace('1024 ', 'unlimited ')),
      Number.POSITIVE_INFINITY,
    );
    assert.equal(
      softOpenFileLimit(() => {
        throw new Error('ENOENT');
      }),
      undefined,
    );
  });
});
