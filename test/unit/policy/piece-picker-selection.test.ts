/**
 * The picker with file selection: per-piece priorities (0 unwanted … 3 high), completion and
 * endgame over wanted pieces only, live changes, and sequential order.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PiecePicker } from '../../../src/policy/piece-picker.js';
import { bits, piecesOf, tablePicker } from './picker-helpers.js';

/** '0 2 3 1' → priorities. */
function prio(pattern: string): Uint8Array {
  return Uint8Array.from(pattern.trim().split(/\s+/).map(Number));
}

/** Picks one piece at a time (one block per piece) and verifies it, until nothing is left. */
function drain(picker: PiecePicker, has: string): number[] {
  const order: number[] = [];
  for (;;) {
    const [pick] = picker.pick({ id: 'p', has: bits(has) }, 1);
    if (!pick) return order;
    order.push(pick.index);
    picker.blockReceived(pick.index, pick.begin, 'p');
    picker.pieceVerified(pick.index);
  }
}

describe('PiecePicker: priorities (table)', () => {
  // availability | priorities | pieces the peer has | order the pieces are started in
  const rows: [string, string, string, number[]][] = [
    ['1 1 1 1', '2 0 2 0', '1111', [0, 2]],
    ['1 2 3 4', '1 2 3 2', '1111', [2, 1, 3, 0]], // high, then normal rarest first, then low
    ['4 3 2 1', '3 3 1 1', '1111', [1, 0, 3, 2]],
    ['1 1 1 1', '0 0 0 0', '1111', []],
    ['2 1 3 1', '3 0 2 2', '1011', [0, 3, 2]], // the peer lacks piece 1 anyway
    ['2 1 1 1', '1 3 1 3', '1010', [2, 0]], // no high piece the peer has: low ones, rarest first
  ];
  for (const [availability, priorities, has, expected] of rows) {
    test(`avail ${availability} prio ${priorities} peer ${has} → ${expected.join(',')}`, () => {
      const picker = tablePicker({ availability, options: { piecePriorities: prio(priorities) } });
      assert.deepEqual(drain(picker, has), expected);
    });
  }

  test('completion and endgame count wanted pieces only', () => {
    const picker = tablePicker({ availability: '1 1 1 1', options: { piecePriorities: prio('2 0 0 2') } });
    assert.equal(picker.wantedMissingCount, 2);
    assert.equal(picker.missingPieceCount, 4);
    const picks = picker.pick({ id: 'p', has: bits('1111') }, 10);
    assert.deepEqual(piecesOf(picks).sort(), [0, 3]);
    assert.equal(picker.inEndgame, true, 'every wanted block is requested');
    for (const pick of picks) {
      picker.blockReceived(pick.index, pick.begin, 'p');
      picker.pieceVerified(pick.index);
    }
    assert.equal(picker.wantedMissingCount, 0);
    assert.equal(picker.inEndgame, false);
    assert.deepEqual(picker.pick({ id: 'p', has: bits('1111') }, 10), []);
  });
});

describe('PiecePicker: live selection changes', () => {
  test('a newly wanted piece is picked, a newly unwanted one is not started', () => {
    const picker = tablePicker({ availability: '1 1 1 1', options: { piecePriorities: prio('2 2 0 0') } });
    picker.setPiecePriorities(prio('0 2 2 0'));
    assert.equal(picker.wantedMissingCount, 2);
    assert.deepEqual(drain(picker, '1111').sort(), [1, 2]);
    assert.equal(picker.wantedMissingCount, 0);
    picker.setPiecePriorities(prio('3 2 2 1'));
    assert.equal(picker.wantedMissingCount, 2);
    assert.deepEqual(drain(picker, '1111'), [0, 3]);
  });

  test('a started piece that becomes unwanted is finished, and not restarted after a failure', () => {
    const picker = tablePicker({ availability: '1 1', blocksPerPiece: 2 });
    const [first] = picker.pick({ id: 'p', has: bits('10') }, 1);
    assert.equal(first!.index, 0);
    picker.setPiecePriorities(prio('0 2'));
    // Its second block is still asked for (the piece is in RAM), nothing new of piece 0 starts.
    assert.deepEqual(
      picker.pick({ id: 'p', has: bits('10') }, 5).map((r) => [r.index, r.begin]),
      [[0, 16]],
    );
    picker.pieceFailed(0);
    assert.deepEqual(picker.pick({ id: 'p', has: bits('10') }, 5), []);
    assert.equal(picker.inEndgame, false);
    assert.deepEqual(piecesOf(picker.pick({ id: 'q', has: bits('11') }, 5)), [1]);
    assert.equal(picker.inEndgame, true, 'piece 0 is no longer counted as needed');
  });

  test('availability stays right across priority moves', () => {
    const picker = tablePicker({ availability: '3 1 2 0', options: { piecePriorities: prio('0 2 0 2') } });
    picker.setPiecePriorities(prio('2 2 2 2'));
    picker.addPeerHave(3);
    picker.addPeerHave(3);
    picker.addPeerHave(3);
    picker.addPeerHave(3);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => picker.availability(i)),
      [3, 1, 2, 4],
    );
    assert.deepEqual(drain(picker, '1111'), [1, 2, 0, 3]);
  });
});

describe('PiecePicker: sequential', () => {
  // priorities | sequentialFirst | peer has | order
  const rows: [string, number[], string, number[]][] = [
    ['2 2 2 2 2 2', [], '111111', [0, 1, 2, 3, 4, 5]],
    ['2 2 2 2 2 2', [0, 5], '111111', [0, 5, 1, 2, 3, 4]],
    ['2 2 2 0 2 2', [0, 2, 4, 5], '111111', [0, 2, 4, 5, 1]],
    ['1 1 3 3 2 2', [], '111111', [2, 3, 4, 5, 0, 1]],
    ['2 2 2 2 2 2', [5], '110111', [5, 0, 1, 3, 4]],
  ];
  for (const [priorities, first, has, expected] of rows) {
    test(`prio ${priorities} first [${first}] peer ${has} → ${expected.join(',')}`, () => {
      const picker = tablePicker({
        availability: '1 1 5 1 1 1',
        options: { piecePriorities: prio(priorities), sequential: true, sequentialFirst: first },
      });
      assert.deepEqual(drain(picker, has), expected);
    });
  }

  test('turned on and off live', () => {
    const picker = tablePicker({ availability: '3 3 1 3' });
    assert.deepEqual(drain(picker, '0010'), [2]);
    picker.setSequential(true, [3]);
    assert.deepEqual(drain(picker, '1111'), [3, 0, 1]);
  });
});
