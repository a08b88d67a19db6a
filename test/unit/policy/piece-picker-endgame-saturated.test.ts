/**
 * Endgame with many peers: once every requested block has its most requesters, a pick gives no
 * duplicate and does not walk the started blocks again until a request is released (or a block
 * is requested anew); then the freed room is given out as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { PiecePicker } from '../../../src/policy/piece-picker.js';
import { BLOCK, seededRandom } from './picker-helpers.js';

function countingPeer(id: string, pieceCount: number): { id: string; has: Bitfield; calls: () => number } {
  const has = Bitfield.full(pieceCount);
  const real = has.has.bind(has);
  let calls = 0;
  has.has = (index: number) => {
    calls++;
    return real(index);
  };
  return { id, has, calls: () => calls };
}

test('a saturated endgame is not walked again until a request is released', () => {
  const picker = new PiecePicker({
    pieceCount: 2,
    pieceLength: 2 * BLOCK,
    totalLength: 4 * BLOCK,
    blockSize: BLOCK,
    random: seededRandom(5),
    randomFirstPieces: 0,
    maxRequestersPerBlock: 2,
  });
  const a = { id: 'a', has: Bitfield.full(2) };
  const b = { id: 'b', has: Bitfield.full(2) };
  assert.equal(picker.pick(a, 4).length, 4);
  assert.ok(picker.inEndgame);
  assert.equal(picker.pick(b, 4).length, 4, 'one duplicate of every block');
  const c = countingPeer('c', 2);
  assert.deepEqual(picker.pick(c, 4), [], 'every block has its two requesters');
  const afterFirst = c.calls();
  assert.ok(afterFirst > 0, 'the first pick looked');
  for (let k = 0; k < 10; k++) assert.deepEqual(picker.pick(c, 4), []);
  assert.equal(c.calls(), afterFirst, 'later picks do not walk the started pieces');

  // A received block does not make room; a released request does, and is given out.
  const receipt = picker.blockReceived(0, 0, 'a');
  assert.deepEqual(receipt.otherRequesters, ['b']);
  assert.deepEqual(picker.pick(c, 4), []);
  assert.equal(c.calls(), afterFirst);
  picker.requestCancelled(1, BLOCK, 'b');
  assert.deepEqual(picker.pick(c, 4), [{ index: 1, begin: BLOCK, length: BLOCK }]);
  picker.peerGone('a');
  const given = picker.pick(c, 4);
  assert.ok(given.length > 0, "a's released requests are room again");
});

test('a piece that failed is requested anew, and its blocks can be duplicated again', () => {
  const picker = new PiecePicker({
    pieceCount: 2,
    pieceLength: 2 * BLOCK,
    totalLength: 4 * BLOCK,
    blockSize: BLOCK,
    random: seededRandom(7),
    randomFirstPieces: 0,
    maxRequestersPerBlock: 2,
  });
  const a = { id: 'a', has: Bitfield.full(2) };
  const b = { id: 'b', has: Bitfield.full(2) };
  const c = { id: 'c', has: Bitfield.full(2) };
  picker.pick(a, 4);
  picker.pick(b, 4);
  assert.deepEqual(picker.pick(c, 4), [], 'saturated');
  picker.blockReceived(0, 0, 'a');
  picker.blockReceived(0, BLOCK, 'a');
  picker.pieceFailed(0);
  assert.equal(picker.inEndgame, false);
  assert.deepEqual(
    picker.pick(a, 2).map((r) => [r.index, r.begin]),
    [
      [0, 0],
      [0, BLOCK],
    ],
  );
  assert.ok(picker.inEndgame);
  assert.deepEqual(
    picker.pick(c, 4).map((r) => [r.index, r.begin]),
    [
      [0, 0],
      [0, BLOCK],
    ],
    'the new requests have room for a duplicate',
  );
});
