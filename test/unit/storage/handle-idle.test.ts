/**
 * Issue 18: a daemon seeding 1,000 torrents at rest held ~150 files open (every storage kept its
 * idle handles). The process-wide HandleBudget now closes handles unused for `idleCloseMs` (a
 * sweep on an injected clock) and its limit can be changed live; 1,000 storages served one after
 * the other never hold more than the limit. Opens and closes are counted on a wrapped fs.
 */
import assert from 'node:assert/strict';
import * as fsPromises from 'node:fs/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { FileStorage, type FileSystem } from '../../../src/storage/file-storage.js';
import { HandleBudget } from '../../../src/storage/handle-budget.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { type Fixture, makeFixture, tempDir } from './fixtures.js';

/** node:fs/promises, counting opens, closes and the handles open now. */
function countingFs(): FileSystem & { opens: number; closes: number; readonly openNow: number } {
  const counter = {
    opens: 0,
    closes: 0,
    get openNow() {
      return counter.opens - counter.closes;
    },
    mkdir: fsPromises.mkdir,
    stat: fsPromises.stat,
    async open(path: string, flags: string | number, mode?: number) {
      const handle = await fsPromises.open(path, flags, mode);
      counter.opens++;
      const close = handle.close.bind(handle);
      handle.close = async () => {
        counter.closes++;
        return close();
      };
      return handle;
    },
  };
  return counter;
}

/**
 * Lets pending closes finish: they are real file closes on libuv's thread pool, which a loaded
 * machine can keep busy for more than a few turns of the event loop (bounded at 5 s; the caller's
 * assertions say what did not happen).
 */
async function settled(budget: HandleBudget, used: number): Promise<void> {
  const until = Date.now() + 5000;
  while (budget.used !== used && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
}

/** `count` one-file torrents of 2 KiB under their own folders. */
function torrents(count: number): Fixture[] {
  return Array.from({ length: count }, (_, i) => makeFixture([{ path: [`t${i}`, 'f'], length: 2048 }], 1024));
}

describe('HandleBudget: idle handles closed, limit live', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  async function seeded(count: number, budget: HandleBudget, fs: FileSystem) {
    const fixtures = torrents(count);
    const storages = fixtures.map(
      (fixture) => new FileStorage(fixture.meta, dir, { fileSystem: fs, handleBudget: budget }),
    );
    for (const [k, storage] of storages.entries()) {
      await storage.writePiece(0, [fixtures[k]!.piece(0)]);
      await storage.writePiece(1, [fixtures[k]!.piece(1)]);
    }
    return { fixtures, storages };
  }

  test('handles unused for idleCloseMs are closed by the sweep; one used since stays open', async () => {
    const clock = new FakeClock();
    const budget = new HandleBudget(64, { clock, idleCloseMs: 60_000 });
    const fs = countingFs();
    const { fixtures, storages } = await seeded(20, budget, fs);
    assert.equal(fs.openNow, 20, 'each storage keeps its one handle after writing');
    clock.advance(30_000);
    await settled(budget, 20);
    assert.equal(fs.openNow, 20, 'nothing idle long enough yet');
    // Storage 7 serves a read at 30 s: its handle is fresh again.
    assert.deepEqual(await storages[7]!.read(0, 0, 100), fixtures[7]!.content.subarray(0, 100));
    clock.advance(31_000);
    await settled(budget, 1);
    assert.equal(fs.openNow, 1, 'the 19 idle handles are closed');
    assert.equal(budget.used, 1);
    assert.equal(budget.idleClosed, 19);
    clock.advance(30_000);
    await settled(budget, 0);
    assert.equal(fs.openNow, 0, 'the last one too, 60 s after its read');
    assert.equal(clock.pendingTimers, 0, 'no sweep armed while nothing is held');
    // Still usable: the next read opens the file again.
    assert.deepEqual(await storages[3]!.read(1, 0, 1024), fixtures[3]!.piece(1));
    assert.equal(fs.openNow, 1);
    assert.equal(clock.pendingTimers, 1, 'the sweep is armed again');
    await Promise.all(storages.map((storage) => storage.close()));
    assert.equal(fs.openNow, 0);
  });

  test('idleCloseMs 0 keeps idle handles (no sweep)', async () => {
    const clock = new FakeClock();
    const budget = new HandleBudget(64, { clock, idleCloseMs: 0 });
    const fs = countingFs();
    const { storages } = await seeded(5, budget, fs);
    clock.advance(3_600_000);
    assert.equal(fs.openNow, 5);
    assert.equal(clock.pendingTimers, 0);
    await Promise.all(storages.map((storage) => storage.close()));
  });

  test('lowering the limit closes idle handles down to it; raising it lets waiters in', async () => {
    const clock = new FakeClock();
    const budget = new HandleBudget(16, { clock, idleCloseMs: 0 });
    const fs = countingFs();
    const { fixtures, storages } = await seeded(10, budget, fs);
    assert.equal(fs.openNow, 10);
    budget.setLimit(4);
    await settled(budget, 4);
    assert.equal(fs.openNow, 4, 'six idle handles closed');
    // Ten reads at once under the limit of 4: never more than 4 open, every byte right.
    let most = 0;
    const watch = setInterval(() => {
      most = Math.max(most, fs.openNow);
    }, 0);
    const read = await Promise.all(storages.map((storage) => storage.read(0, 0, 1024)));
    clearInterval(watch);
    read.forEach((bytes, k) => {
      assert.deepEqual(bytes, fixtures[k]!.piece(0));
    });
    assert.ok(budget.peak <= 16);
    assert.ok(most <= 4, `at most 4 open after the limit was lowered, saw ${most}`);
    budget.setLimit(32);
    await Promise.all(storages.map((storage) => storage.read(1, 0, 1024)));
    await Promise.all(storages.map((storage) => storage.close()));
    assert.equal(budget.used, 0);
  });

  test('1,000 storages served one after the other hold at most the limit (64)', {
    timeout: 60_000,
  }, async () => {
    const clock = new FakeClock();
    const budget = new HandleBudget(64, { clock });
    const fs = countingFs();
    const { fixtures, storages } = await seeded(1000, budget, fs);
    assert.ok(fs.openNow <= 64, `open at rest after 1,000 writes: ${fs.openNow}`);
    for (const [k, storage] of storages.entries())
      assert.deepEqual(await storage.read(1, 0, 16), fixtures[k]!.piece(1).subarray(0, 16));
    assert.ok(budget.peak <= 64, `peak ${budget.peak}`);
    assert.equal(fs.opens - fs.closes, fs.openNow);
    clock.advance(61_000 + 15_000);
    await settled(budget, 0);
    assert.equal(fs.openNow, 0, 'all closed once idle');
  });

  test("a part file's handle is one of the budget's slots, and closes when idle", async () => {
    const clock = new FakeClock();
    const budget = new HandleBudget(64, { clock, idleCloseMs: 10_000 });
    const fs = countingFs();
    // Two files sharing piece 1; the second unwanted: its bytes of piece 1 go to the part file.
    const fixture = makeFixture(
      [
        { path: ['p', 'a'], length: 1500 },
        { path: ['p', 'b'], length: 1500 },
      ],
      1024,
    );
    const storage = new FileStorage(fixture.meta, dir, { fileSystem: fs, handleBudget: budget });
    await storage.open();
    await storage.setFileSelection([true, false]);
    await storage.writePiece(1, [fixture.piece(1)]);
    assert.equal(fs.openNow, 1, 'the wanted file');
    assert.equal(budget.used, 2, 'the wanted file and the part file');
    clock.advance(12_500);
    await settled(budget, 0);
    assert.equal(budget.used, 0, 'both closed once idle');
    assert.equal(fs.openNow, 0);
    // Read back through both again (reopened).
    assert.deepEqual(await storage.read(1, 0, 1024), fixture.piece(1));
    assert.equal(budget.used, 2);
    await storage.close();
    assert.equal(budget.used, 0);
  });
});
