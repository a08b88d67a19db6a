/** From file choices to what the picker and the stats use: piece priorities, head-start pieces, bytes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import {
  type FileChoice,
  fileProgress,
  piecePriorities,
  sequentialFirstPieces,
  wantedBytes,
  wantedVerifiedBytes,
} from '../../../src/session/file-selection.js';
import { makeFixture } from '../storage/fixtures.js';

/** a(10) | pad(4) | b(12) | empty(0) | c(14), pieces of 8: 0 a; 1 a|pad|b; 2 b; 3 b|c; 4 c. */
const fixture = () =>
  makeFixture(
    [
      { path: ['t', 'a'], length: 10 },
      { path: ['t', '.pad', '4'], length: 4, padding: true },
      { path: ['t', 'b'], length: 12 },
      { path: ['t', 'e'], length: 0 },
      { path: ['t', 'c'], length: 14 },
    ],
    8,
  );

const choose = (spec: string): FileChoice[] =>
  spec.split(' ').map((c) => ({
    wanted: c !== '-',
    priority: c === 'h' ? 'high' : c === 'l' ? 'low' : 'normal',
  }));

describe('file selection', () => {
  // choices (- unwanted, l low, n normal, h high) per file | piece priorities
  const rows: [string, number[]][] = [
    ['n n n n n', [2, 2, 2, 2, 2]],
    ['n - - - -', [2, 2, 0, 0, 0]],
    ['- n - - -', [0, 0, 0, 0, 0]], // a padding file alone wants nothing
    ['- - h - l', [0, 3, 3, 3, 1]],
    ['l - h - -', [1, 3, 3, 3, 0]],
    ['- - - n -', [0, 0, 0, 0, 0]],
  ];
  for (const [spec, expected] of rows) {
    test(`${spec} → ${expected.join(' ')}`, () => {
      assert.deepEqual([...piecePriorities(fixture().meta, choose(spec))], expected);
    });
  }

  test('head-start pieces: first and last piece of each wanted file with bytes', () => {
    assert.deepEqual(sequentialFirstPieces(fixture().meta, choose('n n n n n')), [0, 1, 1, 3, 3, 4]);
    assert.deepEqual(sequentialFirstPieces(fixture().meta, choose('- - n - -')), [1, 3]);
    assert.deepEqual(sequentialFirstPieces(fixture().meta, choose('- - - n -')), []);
  });

  test('wanted bytes, verified bytes per file (clipped to the file)', () => {
    const { meta } = fixture();
    assert.equal(wantedBytes(meta, choose('n n n n n')), 36, 'padding is not wanted data');
    assert.equal(wantedBytes(meta, choose('- - n - n')), 26);
    const have = new Bitfield(5);
    have.set(1);
    have.set(3);
    const progress = fileProgress(meta, have);
    assert.deepEqual(progress, [2, 4, 4, 0, 6]);
    assert.equal(wantedVerifiedBytes(meta, choose('n - n - n'), progress), 12);
  });
});
