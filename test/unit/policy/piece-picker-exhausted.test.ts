/**
 * PiecePicker.exhausted: true exactly when no pick can return anything (the downloader stops
 * refilling waiting peers there): every started block asked for and the partial-piece budget
 * full, or nothing missing; never in endgame, where picks are duplicates.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { PiecePicker } from '../../../src/policy/piece-picker.js';

const BLOCK = 16_384;

test('exhausted follows the budget, cancels, verification and endgame', () => {
  const picker = new PiecePicker({
    pieceCount: 3,
    pieceLength: 2 * BLOCK,
    totalLength: 6 * BLOCK,
    maxPartialPieces: 1,
    random: () => 0.5,
  });
  const seed = { id: 'a', has: Bitfield.full(3) };
  picker.addPeerBitfield(seed.has);
  assert.equal(picker.exhausted, false, 'a piece may start');
  const [first, second] = picker.pick(seed, 10);
  assert.ok(first && second && first.index === second.index);
  assert.equal(picker.exhausted, true, 'budget full, every started block asked for');
  assert.deepEqual(picker.pick({ id: 'b', has: Bitfield.full(3) }, 10), [], 'and indeed nothing to give');

  picker.requestCancelled(first.index, first.begin, 'a');
  assert.equal(picker.exhausted, false, 'a cancelled block is free again');
  assert.equal(picker.pick(seed, 10).length, 1);
  assert.equal(picker.exhausted, true);

  picker.blockReceived(first.index, first.begin, 'a');
  picker.blockReceived(second.index, second.begin, 'a');
  picker.pieceVerified(first.index);
  assert.equal(picker.exhausted, false, 'a verified piece frees the budget');
  const deliver = (picks: { index: number; begin: number }[]) => {
    for (const pick of picks) picker.blockReceived(pick.index, pick.begin, 'a');
    picker.pieceVerified(picks[0]!.index);
  };
  const secondPiece = picker.pick(seed, 10);
  assert.equal(secondPiece.length, 2);
  assert.equal(picker.exhausted, true, 'one piece left unstarted, budget full');
  deliver(secondPiece);
  const last = picker.pick(seed, 10);
  assert.equal(last.length, 2);
  assert.equal(picker.inEndgame, true);
  assert.equal(picker.exhausted, false, 'endgame: duplicates may still be picked');
  assert.ok(picker.pick({ id: 'b', has: Bitfield.full(3) }, 10).length > 0);
  deliver(last);
  assert.equal(picker.exhausted, true, 'nothing missing');
});
