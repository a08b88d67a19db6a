import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LodestoneError } from '../../../src/errors.js';
import { MAX_RESUME_RECORD_BYTES } from '../../../src/storage/resume-record.js';
import { DirectoryResumeStore } from '../../../src/storage/resume-store.js';

const hash = 'ab'.repeat(20);

describe('DirectoryResumeStore', () => {
  test('saves atomically under <dir>/<infohash>.resume, loads back, leaves no temporary file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-resume-store-'));
    after(() => rm(root, { recursive: true, force: true }));
    const store = new DirectoryResumeStore(join(root, 'state', 'resume'));
    assert.equal(await store.load(hash), undefined, 'no record yet, no folder yet');
    await store.save(hash, Buffer.from('first'));
    await store.save(hash, Buffer.from('second record'));
    assert.equal(Buffer.from((await store.load(hash))!).toString(), 'second record');
    assert.deepEqual(await readdir(join(root, 'state', 'resume')), [`${hash}.resume`]);
  });

  test('an info-hash that is not 40 hex digits is refused (no path tricks)', async () => {
    const store = new DirectoryResumeStore(tmpdir());
    await assert.rejects(store.load('../../etc/passwd'), LodestoneError);
    await assert.rejects(store.save('AB'.repeat(20), Buffer.alloc(1)), LodestoneError);
  });

  test('a huge file is read only up to the record limit', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-resume-store-'));
    after(() => rm(root, { recursive: true, force: true }));
    const store = new DirectoryResumeStore(root);
    await writeFile(store.pathOf(hash), Buffer.alloc(MAX_RESUME_RECORD_BYTES + 1000));
    assert.equal((await store.load(hash))!.length, MAX_RESUME_RECORD_BYTES + 1);
  });

  test('a save that cannot write is a StorageError and leaves the old record', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-resume-store-'));
    after(() => rm(root, { recursive: true, force: true }));
    // The store's folder is a file: mkdir fails.
    await writeFile(join(root, 'blocked'), 'x');
    const store = new DirectoryResumeStore(join(root, 'blocked'));
    await assert.rejects(
      store.save(hash, Buffer.from('x')),
      (error: unknown) => error instanceof LodestoneError,
    );
  });
});
