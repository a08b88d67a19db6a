/**
 * The picker's seed counter (libtorrent's `m_seeds`): a complete bitfield is counted once, not
 * per piece, so a seed's arrival and departure cost O(1); availability and rarest-first stay
 * exactly what they were with per-piece counting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import { PiecePicker } from '../../../src/policy/piece-picker.js';
import { BLOCK, bits, seededRandom } from './picker-helpers.js';

function picker(pieceCount: number, seed = 1): PiecePicker {
  return new PiecePicker({
    pieceCount,
    pieceLength: BLOCK,
    totalLength: pieceCount * BLOCK,
    blockSize: BLOCK,
    random: seededRandom(seed),
    randomFirstPieces: 0,
  });
}

/** A complete bitfield that counts how often its bits are read (`bytes` or `has`). */
function countingSeed(pieceCount: number): { field: Bitfield; reads: () => number } {
  const field = Bitfield.full(pieceCount);
  let reads = 0;
  const bytes = field.bytes;
  Object.defineProperty(field, 'bytes', {
    get: () => {
      reads++;
      return bytes;
    },
  });
  const has = field.has.bind(field);
  field.has = (index: number) => {
    reads++;
    return has(index);
  };
  return { field, reads: () => reads };
}

test('a seed bitfield is counted without reading its bits, in and out', () => {
  const p = picker(4096);
  const seeds = Array.from({ length: 200 }, () => countingSeed(4096));
  for (const seed of seeds) p.addPeerBitfield(seed.field);
  assert.equal(p.availability(0), 200);
  assert.equal(p.availability(4095), 200);
  for (const seed of seeds.slice(0, 150)) p.removePeerBitfield(seed.field);
  assert.equal(p.availability(17), 50);
  assert.deepEqual(
    seeds.map((seed) => seed.reads()),
    seeds.map(() => 0),
    'no bit of a seed bitfield was read',
  );
  // A partial peer is still counted piece by piece.
  p.addPeerBitfield(bits(`1${'0'.repeat(4095)}`));
  assert.deepEqual([p.availability(0), p.availability(1)], [51, 50]);
});

test('rarest first with seeds: the pieces only the seeds have are the rarest', () => {
  // Two partial peers have pieces 0-2; one seed has every piece: piece 3 has availability 1.
  for (let seed = 1; seed <= 20; seed++) {
    const p = picker(4, seed);
    p.addPeerBitfield(bits('1110'));
    p.addPeerBitfield(bits('1110'));
    p.addPeerBitfield(Bitfield.full(4));
    assert.deepEqual(
      [0, 1, 2, 3].map((i) => p.availability(i)),
      [3, 3, 3, 1],
    );
    const [first] = p.pick({ id: 'seed', has: Bitfield.full(4) }, 1);
    assert.equal(first?.index, 3, `seed ${seed}: the rarest piece first`);
  }
});

test('a peer that completes through haves and then leaves keeps every count exact', () => {
  const p = picker(3);
  const grower = bits('100');
  p.addPeerBitfield(grower);
  const seed = Bitfield.full(3);
  p.addPeerBitfield(seed);
  for (const index of [1, 2]) {
    grower.set(index);
    p.addPeerHave(index);
  }
  assert.deepEqual(
    [0, 1, 2].map((i) => p.availability(i)),
    [2, 2, 2],
  );
  // The grower (counted per piece) leaves first with a complete bitfield, then the seed.
  p.removePeerBitfield(grower);
  assert.deepEqual(
    [0, 1, 2].map((i) => p.availability(i)),
    [1, 1, 1],
  );
  p.addPeerHave(1);
  assert.deepEqual(
    [0, 1, 2].map((i) => p.availability(i)),
    [1, 2, 1],
  );
  p.removePeerBitfield(seed);
  assert.deepEqual(
    [0, 1, 2].map((i) => p.availability(i)),
    [0, 1, 0],
  );
  // A new seed: [1, 2, 1]; rarest first still follows the counts, 0 and 2 before 1.
  const x = { id: 'x', has: Bitfield.full(3) };
  p.addPeerBitfield(x.has);
  assert.deepEqual(
    [0, 1, 2].map((i) => p.availability(i)),
    [1, 2, 1],
  );
  const picked = p.pick(x, 2).map((r) => r.index);
  assert.deepEqual(
    picked.sort((a, b) => a - b),
    [0, 2],
  );
});
