import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { copyIntoShared, sharedBuffer } from '../../../src/storage/shared-memory.js';
import { WriteThread } from '../../../src/storage/write-thread.js';
import { WRITE_SLICE } from '../../../src/storage/write-worker.js';
import { patternBytes } from './fixtures.js';

describe('WriteThread', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lodestone-write-thread-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes parts back to back at their positions, shared and plain, in and across slices', async () => {
    const path = join(dir, 'out.bin');
    const content = patternBytes(3 * WRITE_SLICE + 4321, 5);
    const shared = sharedBuffer(content.length);
    copyIntoShared(shared, content, 0);
    const fd = openSync(path, 'w+');
    const thread = new WriteThread();
    try {
      // Out of order, uneven parts, a part spanning slices, an empty part, shared and plain memory.
      const cut = [0, 5, WRITE_SLICE + 7, 2 * WRITE_SLICE + 100, content.length];
      await Promise.all([
        thread.write(fd, cut[3]!, [shared.subarray(cut[3]!, cut[4]!)]),
        thread.write(fd, cut[0]!, [content.subarray(cut[0]!, cut[1]!), Buffer.alloc(0)]),
        thread.write(fd, cut[1]!, [shared.subarray(cut[1]!, cut[2]!), content.subarray(cut[2]!, cut[3]!)]),
      ]);
      assert.ok(thread.running);
    } finally {
      closeSync(fd);
      await thread.close();
    }
    assert.deepEqual(readFileSync(path), content);
    assert.equal(thread.running, false);
  });

  test('writes go to the thread in batches: by size at once, the rest after the batch delay', {
    timeout: 20_000,
  }, async () => {
    const path = join(dir, 'batched.bin');
    const fd = openSync(path, 'w+');
    // A delay no test would wait out: a write that completes was sent by size, or by delay below.
    const thread = new WriteThread({ batchBytes: 1000, batchDelayMs: 60_000 });
    try {
      const small = [0, 1, 2].map((i) => thread.write(fd, i * 300, [patternBytes(300, i + 1)]));
      assert.equal(thread.batchesSent, 0, '900 bytes queued: under the batch size');
      await Promise.all([...small, thread.write(fd, 900, [patternBytes(300, 4)])]);
      assert.equal(thread.batchesSent, 1, 'four writes, one message');
    } finally {
      closeSync(fd);
      await thread.close();
    }
    const expected = Buffer.concat([1, 2, 3, 4].map((seed) => patternBytes(300, seed)));
    assert.deepEqual(readFileSync(path), expected);

    const lone = openSync(join(dir, 'lone.bin'), 'w+');
    const prompt = new WriteThread({ batchBytes: 1 << 20, batchDelayMs: 5 });
    try {
      await prompt.write(lone, 0, [Buffer.from('alone')]);
      assert.equal(prompt.batchesSent, 1, 'a lone small write goes out after the delay');
    } finally {
      closeSync(lone);
      await prompt.close();
    }
  });

  test('closing rejects writes still queued for a batch, and none of them is written later', async () => {
    const dropped = join(dir, 'dropped.bin');
    const kept = join(dir, 'kept.bin');
    const droppedFd = openSync(dropped, 'w+');
    const keptFd = openSync(kept, 'w+');
    const thread = new WriteThread({ batchBytes: 1 << 20, batchDelayMs: 5 });
    try {
      const queued = assert.rejects(thread.write(droppedFd, 0, [Buffer.from('never sent')]), {
        code: 'LODESTONE_ERR_ABORTED',
      });
      await thread.close();
      await queued;
      assert.equal(thread.batchesSent, 0);
      // The next write starts a fresh thread; a stale queue would ride along in its batch.
      await thread.write(keptFd, 0, [Buffer.from('kept')]);
      assert.equal(thread.batchesSent, 1);
    } finally {
      closeSync(droppedFd);
      closeSync(keptFd);
      await thread.close();
    }
    assert.equal(readFileSync(kept, 'utf8'), 'kept');
    assert.equal(readFileSync(dropped).length, 0, 'the closed-out write never reached the file');
  });

  test('a full disk rejects with ENOSPC, and the thread goes on writing', async (t) => {
    let full: number;
    try {
      full = openSync('/dev/full', 'w');
    } catch {
      t.skip('no /dev/full here');
      return;
    }
    const path = join(dir, 'after-full.bin');
    const fd = openSync(path, 'w+');
    const thread = new WriteThread();
    try {
      await assert.rejects(thread.write(full, 0, [patternBytes(100)]), (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'ENOSPC');
        return true;
      });
      await assert.rejects(thread.write(123_456, 0, [patternBytes(10)]), { code: 'EBADF' });
      await thread.write(fd, 0, [Buffer.from('still writing')]);
    } finally {
      closeSync(full);
      closeSync(fd);
      await thread.close();
    }
    assert.equal(readFileSync(path, 'utf8'), 'still writing');
  });

  test('an idle thread ends, and the next write starts another', async () => {
    const path = join(dir, 'idle.bin');
    const fd = openSync(path, 'w+');
    const thread = new WriteThread({ idleTimeoutMs: 20 });
    try {
      await thread.write(fd, 0, [Buffer.from('one')]);
      assert.ok(thread.running);
      for (let waited = 0; thread.running && waited < 2000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(thread.running, false, 'retired after 20 ms idle');
      await thread.write(fd, 3, [Buffer.from('two')]);
    } finally {
      closeSync(fd);
      await thread.close();
    }
    assert.equal(readFileSync(path, 'utf8'), 'onetwo');
  });

  test('a crashed thread rejects its writes with StorageError', async () => {
    const thread = new WriteThread({ workerUrl: new URL('./exiting-write-worker.js', import.meta.url) });
    try {
      const writes = [thread.write(1, 0, [Buffer.from('a')]), thread.write(1, 1, [Buffer.from('b')])];
      for (const write of writes) {
        await assert.rejects(write, (error: unknown) => {
          assert.ok(isLodestoneError(error));
          assert.equal(error.code, 'LODESTONE_ERR_STORAGE');
          assert.match(error.message, /exited with code 3/);
          return true;
        });
      }
      assert.equal(thread.running, false);
    } finally {
      await thread.close();
    }
  });
});

describe('copyIntoShared', () => {
  test('copies like set(), at any offset, into shared memory', () => {
    const target = sharedBuffer(64);
    const expected = Buffer.alloc(64);
    for (const [offset, length] of [
      [0, 64],
      [3, 17],
      [60, 4],
      [10, 0],
    ] as const) {
      const source = patternBytes(length, offset + 1);
      copyIntoShared(target, source, offset);
      expected.set(source, offset);
      assert.deepEqual(Buffer.from(target), expected);
    }
    assert.throws(() => copyIntoShared(target, patternBytes(8), 60), RangeError);
  });
});
