import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { planResume } from '../../../src/storage/resume-plan.js';
import type { ResumeFileState } from '../../../src/storage/resume-record.js';
import { makeFixture } from './fixtures.js';

/** Files of 40, 8 (padding), 40, 0 (empty) and 40 bytes in pieces of 16: 128 bytes, 8 pieces. */
const fixture = makeFixture(
  [
    { path: ['a'], length: 40 },
    { path: ['.pad', '8'], length: 8, padding: true },
    { path: ['b'], length: 40 },
    { path: ['empty'], length: 0 },
    { path: ['c'], length: 40 },
  ],
  16,
);
const { meta } = fixture;
// a: bytes 0..40 → pieces 0,1,2; pad 40..48 → piece 2; b: 48..88 → pieces 3,4,5; c: 88..128 → pieces 5,6,7.
const state = (size: number, mtimeNs: bigint): ResumeFileState => ({ size, mtimeNs });
const recorded: ResumeFileState[] = [state(40, 1n), undefined, state(40, 2n), state(0, 3n), state(40, 4n)];
const all = Bitfield.full(meta.pieceCount);
const list = (field: Bitfield) => Array.from({ length: field.size }, (_, i) => i).filter((i) => field.has(i));

describe('planResume', () => {
  test('unchanged files: every recorded piece trusted, nothing to hash', () => {
    const plan = planResume(meta, { have: all, files: recorded }, recorded);
    assert.deepEqual(list(plan.trusted), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(list(plan.recheck), []);
    assert.deepEqual(plan.changedFiles, []);
  });

  test('a partial record: pieces it lacks in unchanged files are neither trusted nor hashed', () => {
    const have = new Bitfield(meta.pieceCount);
    for (const index of [0, 3, 7]) have.set(index);
    const plan = planResume(meta, { have, files: recorded }, recorded);
    assert.deepEqual(list(plan.trusted), [0, 3, 7]);
    assert.deepEqual(list(plan.recheck), []);
  });

  test('a file with a new mtime: only the pieces touching it are re-checked', () => {
    const now = [...recorded];
    now[2] = state(40, 99n);
    const plan = planResume(meta, { have: all, files: recorded }, now);
    assert.deepEqual(list(plan.recheck), [3, 4, 5]);
    assert.deepEqual(list(plan.trusted), [0, 1, 2, 6, 7]);
    assert.deepEqual(plan.changedFiles, [2]);
  });

  test('a file with a new size, a missing file, a file the record saw missing', () => {
    const now = [...recorded];
    now[0] = state(41, 1n);
    now[4] = undefined;
    const plan = planResume(meta, { have: all, files: recorded }, now);
    assert.deepEqual(list(plan.recheck), [0, 1, 2, 5, 6, 7]);
    assert.deepEqual(plan.changedFiles, [0, 4]);
    // Missing then and missing now is still "changed": the record cannot vouch for absent bytes.
    const gone = [...recorded];
    gone[2] = undefined;
    const again = planResume(meta, { have: all, files: gone }, gone);
    assert.deepEqual(list(again.recheck), [3, 4, 5]);
  });

  test('padding and empty files never make a piece doubtful', () => {
    const now = [...recorded];
    now[3] = undefined; // the empty file was deleted: it holds no piece bytes
    const plan = planResume(meta, { have: all, files: recorded }, now);
    assert.deepEqual(list(plan.recheck), []);
    assert.equal(plan.trusted.count, meta.pieceCount);
  });
});
