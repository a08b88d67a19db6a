/**
 * Property of the picker with file selection: over random priorities, peers, selection
 * changes and hash failures, it never starts a piece that is unwanted at the time, and a
 * peer with everything always completes the wanted pieces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from '../../src/bitfield.js';
import { PiecePicker } from '../../src/policy/piece-picker.js';
import { seededRandom } from '../unit/policy/picker-helpers.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 300);

const step = fc.oneof(
  fc.record({ kind: fc.constant('pick' as const), peer: fc.nat(3), count: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('receive' as const), which: fc.nat() }),
  fc.record({ kind: fc.constant('fail' as const), which: fc.nat() }),
  fc.record({ kind: fc.constant('select' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('sequential' as const), on: fc.boolean() }),
);

test('the picker never starts an unwanted piece, and completes the wanted ones', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 3 }),
      fc.nat(),
      fc.array(step, { maxLength: 60 }),
      (pieceCount, blocksPerPiece, seed, steps) => {
        const random = seededRandom(seed + 1);
        const priorities = () => Uint8Array.from({ length: pieceCount }, () => Math.floor(random() * 4));
        const blockSize = 16;
        const picker = new PiecePicker({
          pieceCount,
          pieceLength: blockSize * blocksPerPiece,
          totalLength: pieceCount * blockSize * blocksPerPiece - Math.floor(random() * blockSize),
          blockSize,
          random,
          maxPartialPieces: 4,
          randomFirstPieces: 2,
          piecePriorities: priorities(),
        });
        const peers = [0, 1, 2, 3].map((p) => {
          const has = new Bitfield(pieceCount);
          for (let i = 0; i < pieceCount; i++) if (p === 3 || random() < 0.6) has.set(i);
          picker.addPeerBitfield(has);
          return { id: `p${p}`, has };
        });
        const started = new Set<number>();
        const outstanding: { index: number; begin: number; peer: string }[] = [];
        for (const s of steps) {
          if (s.kind === 'pick') {
            const peer = peers[s.peer]!;
            for (const r of picker.pick(peer, s.count)) {
              assert.ok(peer.has.has(r.index), 'picked a piece the peer lacks');
              assert.ok(!picker.haveBitfield.has(r.index), 'picked a piece we have');
              if (!started.has(r.index)) {
                assert.ok(picker.priorityOf(r.index) > 0, `started unwanted piece ${r.index}`);
                started.add(r.index);
              }
              outstanding.push({ ...r, peer: peer.id });
            }
          } else if (s.kind === 'receive' && outstanding.length > 0) {
            const [r] = outstanding.splice(s.which % outstanding.length, 1);
            const receipt = picker.blockReceived(r!.index, r!.begin, r!.peer);
            if (receipt.pieceComplete) {
              picker.pieceVerified(r!.index);
              started.delete(r!.index);
            }
          } else if (s.kind === 'fail' && started.size > 0) {
            const index = [...started][s.which % started.size]!;
            picker.pieceFailed(index);
            started.delete(index);
          } else if (s.kind === 'select') {
            picker.setPiecePriorities(priorities(), [s.seed % pieceCount]);
          } else if (s.kind === 'sequential') {
            picker.setSequential(s.on);
          }
        }
        // The seed (peer 3) alone finishes every wanted piece; started unwanted ones may finish too.
        for (const r of outstanding) picker.requestCancelled(r.index, r.begin, r.peer);
        for (let round = 0; round < 10 * pieceCount * blocksPerPiece + 10; round++) {
          const picks = picker.pick(peers[3]!, 8);
          if (picks.length === 0) break;
          for (const r of picks) {
            if (!started.has(r.index)) assert.ok(picker.priorityOf(r.index) > 0);
            started.add(r.index);
            if (picker.blockReceived(r.index, r.begin, 'p3').pieceComplete) {
              picker.pieceVerified(r.index);
              started.delete(r.index);
            }
          }
        }
        assert.equal(picker.wantedMissingCount, 0);
        for (let i = 0; i < pieceCount; i++) {
          if (picker.priorityOf(i) > 0) assert.ok(picker.haveBitfield.has(i), `wanted piece ${i} missing`);
        }
      },
    ),
    { numRuns },
  );
});
