import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { StorageError } from '../../../src/errors.js';
import { ResumeKeeper } from '../../../src/session/resume-keeper.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import { decodeResumeRecord } from '../../../src/storage/resume-record.js';
import type { ResumeStore } from '../../../src/storage/resume-store.js';
import type { Storage } from '../../../src/storage/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { makeFixture } from '../storage/fixtures.js';

const fixture = makeFixture([{ path: ['f'], length: 64 }], 16);
const { meta } = fixture;

class MapStore implements ResumeStore {
  readonly records = new Map<string, Uint8Array>();
  failing = false;
  async load(key: string) {
    return this.records.get(key);
  }
  async save(key: string, data: Uint8Array) {
    if (this.failing) throw new StorageError('disk full', 'LODESTONE_ERR_DISK_FULL');
    this.records.set(key, data);
  }
}

/** A storage that logs the order of the calls a save makes. */
function loggingStorage(log: string[]): Storage {
  const storage = new MemoryStorage(meta);
  return Object.assign(storage, {
    sync: async () => {
      log.push('sync');
    },
    fileStates: async () => {
      log.push('stat');
      return [{ size: 64, mtimeNs: 42n }];
    },
  });
}

describe('ResumeKeeper', () => {
  test('a save copies the verified pieces, then fsyncs, then stats, then writes the record', async () => {
    const log: string[] = [];
    const store = new MapStore();
    const clock = new FakeClock();
    const keeper = new ResumeKeeper({
      meta,
      storage: loggingStorage(log),
      store,
      savePath: '/x',
      now: clock.now,
    });
    const have = new Bitfield(meta.pieceCount);
    have.set(1);
    await keeper.save(() => {
      log.push('snapshot');
      return { have, uploadedBytes: 5, downloadedBytes: 6 };
    });
    assert.deepEqual(log, ['snapshot', 'sync', 'stat', 'snapshot']);
    const record = decodeResumeRecord(store.records.get(meta.infoHashHex)!);
    assert.deepEqual([...record.have.bytes], [...have.bytes]);
    assert.deepEqual(record.files, [{ size: 64, mtimeNs: 42n }]);
    assert.equal(record.savedAtMs, clock.now());
  });

  test('a piece verified during the save leaves its file recorded as unknown (re-checked, not lost)', async () => {
    const two = makeFixture(
      [
        { path: ['a'], length: 32 },
        { path: ['b'], length: 32 },
      ],
      16,
    ).meta;
    const store = new MapStore();
    const storage = Object.assign(new MemoryStorage(two), {
      fileStates: async () => [
        { size: 32, mtimeNs: 1n },
        { size: 32, mtimeNs: 2n },
      ],
    });
    const keeper = new ResumeKeeper({ meta: two, storage, store, savePath: '/x', now: () => 0 });
    const have = new Bitfield(two.pieceCount);
    have.set(0);
    let calls = 0;
    await keeper.save(() => {
      // The second look (after the stat) finds piece 2 (in file b) verified meanwhile.
      if (++calls === 2) have.set(2);
      return { have: new Bitfield(two.pieceCount, have.bytes), uploadedBytes: 0, downloadedBytes: 0 };
    });
    const record = decodeResumeRecord(store.records.get(two.infoHashHex)!);
    assert.deepEqual(record.files, [{ size: 32, mtimeNs: 1n }, undefined]);
    assert.equal(record.have.has(2), false);
    assert.equal(record.have.has(0), true);
  });

  test('due only when something changed and the interval has passed; a failed save is due again', async () => {
    const store = new MapStore();
    const clock = new FakeClock();
    const keeper = new ResumeKeeper({
      meta,
      storage: loggingStorage([]),
      store,
      savePath: '/x',
      now: clock.now,
      saveIntervalMs: 30_000,
    });
    const snapshot = () => ({ have: new Bitfield(meta.pieceCount), uploadedBytes: 0, downloadedBytes: 0 });
    clock.advance(60_000);
    assert.equal(keeper.due(), false, 'nothing changed');
    keeper.changed();
    assert.equal(keeper.due(), true);
    await keeper.save(snapshot);
    keeper.changed();
    clock.advance(29_999);
    assert.equal(keeper.due(), false, 'saved less than 30 s ago');
    clock.advance(1);
    assert.equal(keeper.due(), true);
    store.failing = true;
    await assert.rejects(keeper.save(snapshot), StorageError);
    clock.advance(30_000);
    assert.equal(keeper.due(), true, 'the failed save is retried by the schedule');
  });

  test('saves never overlap: each waits for the one before', async () => {
    const store = new MapStore();
    let running = 0;
    let most = 0;
    const storage = Object.assign(new MemoryStorage(meta), {
      fileStates: async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setImmediate(resolve));
        running--;
        return [{ size: 64, mtimeNs: 1n }];
      },
    });
    const keeper = new ResumeKeeper({ meta, storage, store, savePath: '/x', now: () => 0 });
    const snapshot = () => ({ have: new Bitfield(meta.pieceCount), uploadedBytes: 0, downloadedBytes: 0 });
    await Promise.all([keeper.save(snapshot), keeper.save(snapshot), keeper.save(snapshot)]);
    assert.equal(most, 1);
    assert.equal(keeper.saving, false);
  });

  test('start: a corrupted record is "rejected" with its reason, no record is "none"', async () => {
    const store = new MapStore();
    const storage = loggingStorage([]);
    const keeper = new ResumeKeeper({ meta, storage, store, savePath: '/x', now: () => 0 });
    assert.equal((await keeper.start()).info.record, 'none');
    store.records.set(meta.infoHashHex, Buffer.from('d6:format16:lodestone-resum'));
    const start = await keeper.start();
    assert.equal(start.info.record, 'rejected');
    assert.match(start.info.reason ?? '', /resume record/);
    assert.equal(start.recheck, undefined, 'everything is checked');
    assert.equal(start.trusted.count, 0);
  });
});
