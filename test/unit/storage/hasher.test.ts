import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { HashPool, sha1 } from '../../../src/storage/hasher.js';
import { patternBytes } from './fixtures.js';

const reference = (blocks: readonly Uint8Array[]) => {
  const hash = createHash('sha1');
  for (const block of blocks) hash.update(block);
  return hash.digest();
};

/** Splits `data` into blocks of varying sizes (including empty ones). */
function split(data: Buffer, seed: number): Buffer[] {
  const blocks: Buffer[] = [];
  let at = 0;
  let step = (seed % 7) + 1;
  while (at < data.length) {
    blocks.push(data.subarray(at, at + step));
    if (step % 3 === 0) blocks.push(Buffer.alloc(0));
    at += step;
    step = (step * 5 + 3) % 50_000;
  }
  return blocks;
}

describe('sha1', () => {
  test('matches node:crypto over blocks', () => {
    const data = patternBytes(10_000);
    assert.deepEqual(sha1(split(data, 3)), reference([data]));
    assert.deepEqual(sha1([]), reference([]));
  });
});

describe('HashPool', () => {
  test('digests match node:crypto for many sizes, shapes and views', async () => {
    const pool = new HashPool({ workers: 2 });
    try {
      const sizes = [0, 1, 19, 20, 21, 16_384, 65_536, 65_537, 262_144, 1_000_003, 5 * 1024 * 1024];
      for (const [i, size] of sizes.entries()) {
        const data = patternBytes(size, i + 1);
        assert.deepEqual(await pool.hash([data]), reference([data]), `size ${size}`);
        const blocks = split(data, i);
        assert.deepEqual(await pool.hash(blocks), reference(blocks), `size ${size} in blocks`);
      }
      // A view into a larger buffer hashes only its own bytes.
      const big = patternBytes(1000);
      const view = new Uint8Array(big.buffer, big.byteOffset + 100, 50);
      assert.deepEqual(await pool.hash([view]), reference([view]));
    } finally {
      await pool.destroy();
    }
  });

  test('many concurrent jobs all resolve to their own digest', async () => {
    const pool = new HashPool({ workers: 3 });
    try {
      const inputs = Array.from({ length: 300 }, (_, i) =>
        split(patternBytes(1 + ((i * 7919) % 200_000), i), i),
      );
      const digests = await Promise.all(inputs.map((blocks) => pool.hash(blocks)));
      for (const [i, digest] of digests.entries())
        assert.deepEqual(digest, reference(inputs[i]!), `job ${i}`);
      assert.equal(pool.pending, 0);
    } finally {
      await pool.destroy();
    }
  });

  test('the blocks are left untouched', async () => {
    const pool = new HashPool({ workers: 1 });
    try {
      const data = patternBytes(100_000);
      const copy = Buffer.from(data);
      await pool.hash([data.subarray(0, 50_000), data.subarray(50_000)]);
      assert.deepEqual(data, copy);
      assert.equal(data.buffer.byteLength > 0, true, 'not detached');
    } finally {
      await pool.destroy();
    }
  });

  test('a destroyed pool rejects pending and later jobs', async () => {
    const pool = new HashPool({ workers: 1 });
    const jobs = Array.from({ length: 20 }, (_, i) => pool.hash([patternBytes(500_000, i + 1)]));
    const settled = Promise.allSettled(jobs);
    await pool.destroy();
    const results = await settled;
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.ok(rejected.length > 0, 'queued jobs are rejected');
    for (const { reason } of rejected) {
      assert.ok(isLodestoneError(reason));
      assert.equal(reason.code, 'LODESTONE_ERR_ABORTED');
    }
    await assert.rejects(pool.hash([Buffer.from('x')]), (e: unknown) => isLodestoneError(e));
    await pool.destroy(); // idempotent
  });

  test('a crashed worker rejects its job with StorageError and is replaced', async () => {
    const pool = new HashPool({
      workers: 1,
      workerUrl: new URL('./crashing-hash-worker.js', import.meta.url),
    });
    try {
      const before = pool.hash([Buffer.from('before')]);
      const crash = pool.hash([Buffer.from('crash me now!')]); // 13 bytes: the test worker exits
      const after = Array.from({ length: 5 }, (_, i) => pool.hash([patternBytes(1000, i + 1)]));
      assert.deepEqual(await before, reference([Buffer.from('before')]));
      await assert.rejects(crash, (error: unknown) => {
        assert.ok(isLodestoneError(error));
        assert.equal(error.code, 'LODESTONE_ERR_STORAGE');
        assert.match(error.message, /exited with code 3/);
        return true;
      });
      // Jobs pipelined onto the crashed worker fail with it; later ones get a fresh worker.
      const results = await Promise.allSettled(after);
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      assert.ok(fulfilled.length >= 4, `most later jobs succeed (${fulfilled.length}/5)`);
      assert.deepEqual(await pool.hash([Buffer.from('again')]), reference([Buffer.from('again')]));
    } finally {
      await pool.destroy();
    }
  });

  test('an idle worker ends, and the next job starts a new one', async () => {
    const pool = new HashPool({ workers: 1, idleTimeoutMs: 50 });
    try {
      assert.equal(pool.workerCount, 0, 'no thread before the first job');
      await pool.hash([Buffer.from('first')]);
      assert.equal(pool.workerCount, 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(pool.workerCount, 0, 'the idle thread ended');
      assert.deepEqual(await pool.hash([Buffer.from('again')]), reference([Buffer.from('again')]));
      assert.equal(pool.workerCount, 1);
    } finally {
      await pool.destroy();
    }
  });

  test('default size is at least one worker', () => {
    assert.ok(new HashPool().size >= 1);
    assert.equal(new HashPool({ workers: 0 }).size, 1);
  });
});
