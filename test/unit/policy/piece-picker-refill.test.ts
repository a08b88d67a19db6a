/**
 * A refill with many peers: once every block of the started pieces is asked for, a pick does not
 * look at the started pieces at all (it used to test and sort every one of them per pick, for
 * each of 200 peers' small refills); it still finishes a started piece with a free block first.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { PiecePicker } from '../../../src/policy/piece-picker.js';
import { BLOCK, seededRandom } from './picker-helpers.js';

/** A complete bitfield that counts `has` calls about the pieces in `watched`. */
function watchingHas(pieceCount: number, watched: Set<number>): { has: Bitfield; calls: () => number } {
  const has = Bitfield.full(pieceCount);
  const real = has.has.bind(has);
  let calls = 0;
  has.has = (index: number) => {
    if (watched.has(index)) calls++;
    return real(index);
  };
  return { has, calls: () => calls };
}

test('a pick does not look at started pieces when none has a free block', () => {
  const picker = new PiecePicker({
    pieceCount: 64,
    pieceLength: 2 * BLOCK,
    totalLength: 64 * 2 * BLOCK,
    blockSize: BLOCK,
    random: seededRandom(3),
    randomFirstPieces: 0,
    maxPartialPieces: 8,
    pieceStartBatch: 1,
  });
  const a = { id: 'a', has: Bitfield.full(64) };
  picker.addPeerBitfield(a.has);
  const started = new Set<number>();
  for (let k = 0; k < 7; k++) {
    const picks = picker.pick(a, 2);
    assert.equal(picks.length, 2);
    started.add(picks[0]!.index);
  }
  assert.equal(started.size, 7, 'seven pieces started, every block asked for');
  const watch = watchingHas(64, started);
  const b = { id: 'b', has: watch.has };
  const picks = picker.pick(b, 2);
  assert.equal(picks.length, 2);
  assert.ok(!started.has(picks[0]!.index), 'a new piece');
  assert.equal(watch.calls(), 0, 'no started piece was looked at');

  // A freed block of a started piece is taken first, and only that piece is looked at.
  const [first] = [...started];
  picker.requestCancelled(first!, 0, 'a');
  const watchAgain = watchingHas(64, started);
  const again = picker.pick({ id: 'c', has: watchAgain.has }, 1);
  assert.deepEqual(again, [{ index: first, begin: 0, length: BLOCK }]);
  assert.equal(watchAgain.calls(), 1);
});
