import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from '../../../src/bitfield.js';
import { type BlockRequest, PiecePicker } from '../../../src/policy/piece-picker.js';
import { RarityOrder } from '../../../src/policy/rarity-order.js';
import { seededRandom } from './picker-helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

describe('RarityOrder', () => {
  test('buckets always hold exactly the candidate pieces of their availability', () => {
    const op = fc.record({ kind: fc.constantFrom('inc', 'inc', 'dec', 'remove'), piece: fc.nat(19) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const order = new RarityOrder(20, (i) => i % 7 !== 3);
        const availability = new Array<number>(20).fill(0);
        const candidates = new Set(Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 7 !== 3));
        for (const { kind, piece } of ops) {
          if (kind === 'inc') {
            order.increment(piece);
            availability[piece]!++;
          } else if (kind === 'dec') {
            order.decrement(piece);
            availability[piece] = Math.max(0, availability[piece]! - 1);
          } else {
            order.remove(piece);
            candidates.delete(piece);
          }
        }
        assert.equal(order.length, candidates.size);
        const seen = new Set<number>();
        for (let level = 0; level <= order.maxLevel; level++) {
          const [start, end] = order.bucket(level);
          for (let position = start; position < end; position++) {
            const piece = order.at(position);
            assert.equal(order.availability(piece), level);
            seen.add(piece);
          }
        }
        assert.deepEqual([...seen].sort(), [...candidates].sort());
        for (const [piece, count] of availability.entries()) assert.equal(order.availability(piece), count);
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * A small swarm driven by a seeded random: peers join and leave, blocks
 * arrive, get cancelled or lost, pieces fail their hash now and then. The
 * download must finish and every pick must respect the rules.
 */
function simulate(seed: number): number {
  const random = seededRandom(seed);
  const pieceCount = 1 + Math.floor(random() * 30);
  const blockSize = 16;
  const pieceLength = blockSize * (1 + Math.floor(random() * 4));
  const totalLength = pieceCount * pieceLength - Math.floor(random() * (pieceLength - 1));
  const picker = new PiecePicker({
    pieceCount,
    pieceLength,
    totalLength,
    blockSize,
    random: seededRandom(seed + 1),
    maxPartialPieces: 1 + Math.floor(random() * 8),
    pieceStartBatch: 1 + Math.floor(random() * 8),
  });
  const peers = new Map<string, { has: Bitfield; outstanding: Map<string, BlockRequest> }>();
  let nextPeer = 0;
  const join = () => {
    const has = new Bitfield(pieceCount);
    const density = random();
    for (let i = 0; i < pieceCount; i++) if (random() < density) has.set(i);
    picker.addPeerBitfield(has);
    peers.set(`p${nextPeer++}`, { has, outstanding: new Map() });
  };
  // A seed that stays keeps every piece available.
  picker.addPeerBitfield(Bitfield.full(pieceCount));
  peers.set('seed', { has: Bitfield.full(pieceCount), outstanding: new Map() });
  for (let k = 0; k < 3; k++) join();

  let steps = 0;
  while (picker.missingPieceCount > 0) {
    assert.ok(++steps < 20_000, `seed ${seed}: download does not finish`);
    const ids = [...peers.keys()];
    const id = ids[Math.floor(random() * ids.length)]!;
    const peer = peers.get(id)!;
    const action = random();
    if (action < 0.4) {
      for (const request of picker.pick({ id, has: peer.has }, 1 + Math.floor(random() * 6))) {
        const key = `${request.index}:${request.begin}`;
        assert.ok(!peer.outstanding.has(key), 'never the same block twice from one peer');
        assert.ok(peer.has.has(request.index), 'only pieces the peer has');
        assert.ok(!picker.haveBitfield.has(request.index), 'never a piece we have');
        peer.outstanding.set(key, request);
      }
    } else if (action < 0.85 && peer.outstanding.size > 0) {
      const [key, request] = [...peer.outstanding][Math.floor(random() * peer.outstanding.size)]!;
      peer.outstanding.delete(key);
      if (random() < 0.15) {
        picker.requestCancelled(request.index, request.begin, id);
        continue;
      }
      const receipt = picker.blockReceived(request.index, request.begin, id);
      for (const other of receipt.otherRequesters) peers.get(other)?.outstanding.delete(key);
      if (receipt.pieceComplete) {
        if (random() < 0.1) picker.pieceFailed(request.index);
        else picker.pieceVerified(request.index);
      }
    } else if (action < 0.9 && id !== 'seed') {
      picker.removePeerBitfield(peer.has);
      picker.peerGone(id);
      peers.delete(id);
      join();
    }
  }
  assert.equal(picker.haveBitfield.complete, true);
  assert.equal(picker.inEndgame, false);
  return steps;
}

describe('PiecePicker: simulated swarm', () => {
  test('downloads finish under churn, cancels and hash failures', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        simulate(seed);
      }),
      { numRuns: RUNS },
    );
  });

  test('the same seed gives the same run', () => {
    assert.equal(simulate(42), simulate(42));
  });

  test('pick cost stays small on a big torrent', () => {
    const pieceCount = 100_000;
    const random = seededRandom(9);
    const picker = new PiecePicker({
      pieceCount,
      pieceLength: 262_144,
      totalLength: pieceCount * 262_144,
      random,
    });
    const peers = Array.from({ length: 40 }, () => {
      const has = new Bitfield(pieceCount);
      for (let i = 0; i < pieceCount; i++) if (random() < 0.6) has.set(i);
      picker.addPeerBitfield(has);
      return has;
    });
    const started = performance.now();
    let requested = 0;
    for (let round = 0; round < 3000; round++) {
      const id = `p${round % peers.length}`;
      const picks = picker.pick({ id, has: peers[round % peers.length]! }, 16);
      requested += picks.length;
      for (const request of picks) {
        const receipt = picker.blockReceived(request.index, request.begin, id);
        if (receipt.pieceComplete) picker.pieceVerified(request.index);
      }
    }
    const elapsed = performance.now() - started;
    assert.equal(requested, 3000 * 16);
    // ~48k blocks; a full scan per pick would take tens of seconds here.
    assert.ok(elapsed < 3000, `3000 picks took ${elapsed.toFixed(0)} ms`);
  });
});
