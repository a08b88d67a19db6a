import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { PiecePicker, type PiecePickerOptions } from '../../../src/policy/piece-picker.js';
import { BLOCK, bits, piecesOf, seededRandom, tablePicker } from './picker-helpers.js';

describe('PiecePicker: rarest first (table)', () => {
  // availability per piece | pieces we have | pieces the peer has | expected first piece
  const rows: [string, string, string, number][] = [
    ['1 2 3 4', '0000', '1111', 0],
    ['4 3 2 1', '0000', '1111', 3],
    ['4 3 2 1', '0001', '1111', 2],
    ['4 3 2 1', '0000', '1100', 1],
    ['0 5 1 5', '0000', '1111', 2], // availability 0 with the peer having it: counted last
    ['0 4 1 5', '0010', '1111', 1],
    ['2 3 1 4', '0000', '1101', 0],
    ['3 1 1 3 1', '01011', '11111', 2],
  ];
  for (const [availability, have, peerHas, expected] of rows) {
    test(`avail ${availability} have ${have} peer ${peerHas} → ${expected}`, () => {
      const picker = tablePicker({ availability, have });
      const [first] = picker.pick({ id: 'p', has: bits(peerHas) }, 1);
      assert.deepEqual(first, { index: expected, begin: 0, length: BLOCK });
    });
  }

  test('picks in rarity order and never a piece we have or the peer lacks', () => {
    const picker = tablePicker({ availability: '5 1 4 2 6 3 0', have: '0000100' });
    const picks = picker.pick({ id: 'p', has: bits('1111101') }, 10);
    assert.deepEqual(piecesOf(picks), [1, 3, 2, 0, 6]);
  });

  test('ties are broken randomly (and deterministically per seed)', () => {
    const chosen = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const picks = tablePicker({ availability: '2 1 1 1 2', seed }).pick({ id: 'p', has: bits('11111') }, 1);
      const again = tablePicker({ availability: '2 1 1 1 2', seed }).pick({ id: 'p', has: bits('11111') }, 1);
      assert.deepEqual(picks, again);
      chosen.add(picks[0]!.index);
    }
    assert.deepEqual([...chosen].sort(), [1, 2, 3]);
  });

  test('availability follows bitfields and haves', () => {
    const picker = tablePicker({ availability: '0 0 0 0' });
    picker.addPeerBitfield(bits('1100'));
    picker.addPeerBitfield(bits('0110'));
    picker.addPeerHave(3);
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => picker.availability(i)),
      [1, 2, 1, 1],
    );
    picker.removePeerBitfield(bits('1100'));
    picker.removePeerBitfield(bits('1000')); // already at 0: stays 0
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => picker.availability(i)),
      [0, 1, 1, 1],
    );
    const [first] = picker.pick({ id: 'p', has: bits('1010') }, 1);
    assert.equal(first!.index, 2);
  });
});

describe('PiecePicker: random first', () => {
  test('with fewer than 4 pieces, new pieces are random among what the peer has', () => {
    const seen = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const picker = tablePicker({
        availability: '9 1 9 9 9 9 9 9',
        seed,
        options: { randomFirstPieces: 4 },
      });
      const [first] = picker.pick({ id: 'p', has: bits('11111110') }, 1);
      assert.notEqual(first!.index, 7);
      seen.add(first!.index);
    }
    assert.ok(seen.size >= 5, `spread over pieces, saw ${[...seen]}`);
  });

  test('switches to rarest first once 4 pieces are verified', () => {
    const picker = tablePicker({
      availability: '9 9 9 9 9 9 1 9',
      seed: 7,
      options: { randomFirstPieces: 4 },
    });
    for (const index of [0, 1, 2, 3]) picker.pieceVerified(index);
    const [first] = picker.pick({ id: 'p', has: bits('11111111') }, 1);
    assert.equal(first!.index, 6);
  });
});

describe('PiecePicker: partial pieces', () => {
  test('finishes started pieces first, most advanced first', () => {
    const picker = tablePicker({ availability: '3 3 3 1', blocksPerPiece: 4 });
    const a = picker.pick({ id: 'a', has: bits('1100') }, 3); // piece 0 (tie → random) blocks 0..2
    const started = a[0]!.index;
    const b = picker.pick({ id: 'b', has: bits('1100') }, 1); // finishes the started piece
    assert.deepEqual(b, [{ index: started, begin: 3 * BLOCK, length: BLOCK }]);
    const other = 1 - started;
    picker.pick({ id: 'c', has: bits('1100') }, 1); // starts the other one (1 block)
    // Peer d has everything, piece 3 is rarest, but partial `other` comes first.
    const d = picker.pick({ id: 'd', has: bits('1111') }, 4);
    assert.deepEqual(piecesOf(d), [other, 3]);
    assert.equal(d.filter((r) => r.index === other).length, 3);
  });

  test('maxPartialPieces caps started pieces; at the cap only partials are served', () => {
    const picker = tablePicker({
      availability: '1 1 1 1 1 1',
      blocksPerPiece: 2,
      options: { maxPartialPieces: 2 },
    });
    const a = picker.pick({ id: 'a', has: bits('111111') }, 100);
    assert.equal(a.length, 4);
    assert.equal(piecesOf(a).length, 2);
    assert.equal(picker.partialPieceCount, 2);
    assert.deepEqual(picker.pick({ id: 'b', has: bits('111111') }, 10), [], 'no free blocks, no endgame');
    const outside = [0, 1, 2, 3, 4, 5].map((i) => (piecesOf(a).includes(i) ? '0' : '1')).join('');
    assert.deepEqual(picker.pick({ id: 'c', has: bits(outside) }, 1), []);
    // Verifying one frees a slot.
    for (const r of a.filter((r) => r.index === a[0]!.index)) picker.blockReceived(r.index, r.begin, 'a');
    picker.pieceVerified(a[0]!.index);
    assert.equal(piecesOf(picker.pick({ id: 'b', has: bits('111111') }, 10)).length, 1);
  });

  /** A picker of `pieces` 2-block pieces whose 4-piece budget one pick from peer a has filled. */
  const fullBudget = (pieces: number, pieceStartBatch: number) => {
    const picker = tablePicker({
      availability: Array(pieces).fill('1').join(' '),
      blocksPerPiece: 2,
      options: { maxPartialPieces: 4, pieceStartBatch },
    });
    const all = bits('1'.repeat(pieces));
    const first = picker.pick({ id: 'a', has: all }, 100);
    assert.equal(piecesOf(first).length, 4);
    const finish = (index: number): void => {
      for (const r of first.filter((r) => r.index === index)) picker.blockReceived(r.index, r.begin, 'a');
      picker.pieceVerified(index);
    };
    return { picker, all, started: piecesOf(first), finish };
  };

  test('once the budget was full, new pieces start in batches of pieceStartBatch free slots', () => {
    const { picker, all, started, finish } = fullBudget(12, 2);
    finish(started[0]!);
    assert.deepEqual(picker.pick({ id: 'a', has: all }, 100), [], 'one free slot of a batch of two: wait');
    assert.deepEqual(picker.pick({ id: 'b', has: all }, 100), []);
    finish(started[1]!);
    const batch = picker.pick({ id: 'a', has: all }, 100);
    assert.equal(piecesOf(batch).length, 2, 'two slots free: both start in one pick');
    assert.equal(batch.length, 4);
  });

  test('the last pieces start without waiting for a full batch', () => {
    const { picker, all, started, finish } = fullBudget(5, 3);
    finish(started[0]!);
    // One slot free, batch of three, but only one piece is left to start: it starts now.
    const last = picker.pick({ id: 'a', has: all }, 100);
    assert.equal(piecesOf(last).length, 1);
    assert.ok(!started.includes(last[0]!.index));
  });

  test('pieceStartBatch defaults to an eighth of the budget, at least 1 and at most the budget', () => {
    const make = (options: Partial<PiecePickerOptions>) =>
      tablePicker({ availability: '1', options }).pieceStartBatch;
    assert.equal(make({ maxPartialPieces: 32 }), 4);
    assert.equal(make({ maxPartialPieces: 4 }), 1);
    assert.equal(make({ maxPartialPieces: 4, pieceStartBatch: 9 }), 4);
  });

  test('blocks of the last piece are sized to fit', () => {
    const picker = new PiecePicker({
      pieceCount: 2,
      pieceLength: 40,
      totalLength: 70,
      blockSize: 16,
      random: seededRandom(1),
      randomFirstPieces: 0,
    });
    picker.addPeerHave(1);
    picker.addPeerHave(1);
    picker.addPeerHave(0);
    const picks = picker.pick({ id: 'p', has: bits('11') }, 10);
    assert.deepEqual(picks, [
      { index: 0, begin: 0, length: 16 },
      { index: 0, begin: 16, length: 16 },
      { index: 0, begin: 32, length: 8 },
      { index: 1, begin: 0, length: 16 },
      { index: 1, begin: 16, length: 14 },
    ]);
  });
});

describe('PiecePicker: requests coming back', () => {
  test('requestCancelled returns a block to the pool', () => {
    const picker = tablePicker({ availability: '1', blocksPerPiece: 2 });
    const has = bits('1');
    assert.equal(picker.pick({ id: 'a', has }, 2).length, 2);
    assert.deepEqual(picker.pick({ id: 'b', has }, 2).length, 2, 'endgame duplicates');
    picker.requestCancelled(0, 0, 'a'); // b still has it: stays requested
    assert.equal(picker.inEndgame, true);
    picker.requestCancelled(0, 0, 'b');
    assert.equal(picker.inEndgame, false);
    // c gets the free block, then (endgame again) a duplicate of the other one.
    assert.deepEqual(picker.pick({ id: 'c', has }, 5), [
      { index: 0, begin: 0, length: BLOCK },
      { index: 0, begin: BLOCK, length: BLOCK },
    ]);
    picker.requestCancelled(0, 999, 'c'); // not a block start: ignored
    picker.requestCancelled(5, 0, 'c'); // no such piece: ignored
  });

  test('peerGone releases all of its requests', () => {
    const picker = tablePicker({ availability: '2 2 2', blocksPerPiece: 2 });
    const a = picker.pick({ id: 'a', has: bits('111') }, 4);
    picker.pick({ id: 'b', has: bits('111') }, 2);
    picker.blockReceived(a[0]!.index, a[0]!.begin, 'a');
    picker.peerGone('a');
    const aPieces = [0, 1, 2].map((i) => (piecesOf(a).includes(i) ? '1' : '0')).join('');
    const c = picker.pick({ id: 'c', has: bits(aPieces) }, 10);
    const key = (r: { index: number; begin: number }) => `${r.index}:${r.begin}`;
    assert.deepEqual(c.map(key).sort(), a.slice(1).map(key).sort());
    picker.peerGone('a'); // twice: harmless
  });

  test('pieceFailed puts every block back; pieceVerified removes the piece', () => {
    const picker = tablePicker({ availability: '1 1', blocksPerPiece: 2 });
    const has = bits('11');
    const picks = picker.pick({ id: 'a', has }, 2);
    const index = picks[0]!.index;
    assert.equal(picker.blockReceived(index, 0, 'a').pieceComplete, false);
    assert.equal(picker.blockReceived(index, BLOCK, 'a').pieceComplete, true);
    picker.pieceFailed(index);
    assert.equal(picker.partialPieceCount, 0);
    assert.equal(picker.missingPieceCount, 2);
    const again = picker.pick({ id: 'b', has: index === 0 ? bits('10') : bits('01') }, 5);
    assert.deepEqual(again, picks);
    for (const r of again) picker.blockReceived(r.index, r.begin, 'b');
    picker.pieceVerified(index);
    assert.equal(picker.haveBitfield.has(index), true);
    assert.equal(picker.missingPieceCount, 1);
    assert.deepEqual(picker.pick({ id: 'b', has: index === 0 ? bits('10') : bits('01') }, 5), []);
    assert.deepEqual(picker.blockReceived(index, 0, 'b'), {
      duplicate: true,
      pieceComplete: false,
      otherRequesters: [],
    });
  });
});

describe('PiecePicker: endgame', () => {
  test('duplicates go to other peers only, at most 3 requesters per block, cancels reported', () => {
    const picker = tablePicker({ availability: '4 4', blocksPerPiece: 2 });
    const has = bits('11');
    assert.equal(picker.pick({ id: 'a', has }, 10).length, 4);
    assert.equal(picker.inEndgame, true);
    assert.deepEqual(picker.pick({ id: 'a', has }, 10), [], 'never twice from the same peer');
    assert.equal(picker.pick({ id: 'b', has }, 10).length, 4);
    assert.equal(picker.pick({ id: 'c', has }, 2).length, 2);
    // d gets the blocks c did not take (2 requesters) before any 3-requester block... which is none left.
    const d = picker.pick({ id: 'd', has }, 10);
    assert.equal(d.length, 2);
    assert.deepEqual(picker.pick({ id: 'e', has }, 10), [], 'every block has 3 requesters');
    const [first] = d;
    const receipt = picker.blockReceived(first!.index, first!.begin, 'b');
    assert.equal(receipt.duplicate, false);
    assert.deepEqual([...receipt.otherRequesters].sort(), ['a', 'd']);
    assert.equal(picker.blockReceived(first!.index, first!.begin, 'a').duplicate, true);
  });

  test('an unrequested block arriving is accepted and counted', () => {
    const picker = tablePicker({ availability: '1', blocksPerPiece: 2 });
    picker.pick({ id: 'a', has: bits('1') }, 1);
    picker.requestCancelled(0, 0, 'a');
    const receipt = picker.blockReceived(0, 0, 'a');
    assert.deepEqual(receipt, { duplicate: false, pieceComplete: false, otherRequesters: [] });
    assert.deepEqual(picker.pick({ id: 'b', has: bits('1') }, 5), [
      { index: 0, begin: BLOCK, length: BLOCK },
    ]);
    assert.equal(picker.inEndgame, true);
  });

  test('no endgame while a piece nobody has is still missing', () => {
    const picker = tablePicker({ availability: '1 0' });
    picker.pick({ id: 'a', has: bits('10') }, 5);
    assert.equal(picker.inEndgame, false);
    assert.deepEqual(picker.pick({ id: 'b', has: bits('10') }, 5), []);
  });
});

describe('PiecePicker: construction', () => {
  test('takes the pieces we already have', () => {
    const have = new Bitfield(3);
    have.set(1);
    const picker = new PiecePicker({
      pieceCount: 3,
      pieceLength: 10,
      totalLength: 25,
      random: () => 0.5,
      have,
    });
    assert.equal(picker.missingPieceCount, 2);
    have.set(0);
    assert.equal(picker.haveBitfield.has(0), false, 'the bitfield was copied');
    assert.throws(
      () => new PiecePicker({ pieceCount: 4, pieceLength: 10, totalLength: 25, random: Math.random }),
      RangeError,
    );
  });

  test('a complete torrent picks nothing', () => {
    const picker = tablePicker({ availability: '1 1', have: '11' });
    assert.equal(picker.missingPieceCount, 0);
    assert.equal(picker.inEndgame, false);
    assert.deepEqual(picker.pick({ id: 'a', has: bits('11') }, 5), []);
  });
});
