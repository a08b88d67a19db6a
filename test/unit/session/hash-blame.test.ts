import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { HashBlame } from '../../../src/session/hash-blame.js';

const BLOCK = 16_384;

describe('HashBlame (smart ban)', () => {
  const piece = randomBytes(4 * BLOCK);
  const blockOf = (i: number) => piece.subarray(i * BLOCK, (i + 1) * BLOCK);
  const garbage = () => randomBytes(BLOCK);

  test('nothing is recorded for a piece that never failed', () => {
    const blame = new HashBlame();
    assert.equal(blame.blockReceived('liar', 0, 0, garbage()), false);
    assert.deepEqual(blame.pieceVerified(0, piece), []);
  });

  test('once a failed piece passes, whoever sent a differing block is named, and only them', () => {
    const blame = new HashBlame();
    blame.pieceFailed(3);
    blame.blockReceived('honest', 3, 0, blockOf(0));
    blame.blockReceived('liar', 3, 2 * BLOCK, garbage());
    blame.blockReceived('honest', 3, 2 * BLOCK, blockOf(2));
    assert.deepEqual(blame.pieceVerified(3, piece), ['liar']);
    assert.equal(blame.isWatched(3), false);
  });

  test('a peer sending two versions of one block contradicts itself; the same bytes twice do not', () => {
    const blame = new HashBlame();
    blame.pieceFailed(1);
    assert.equal(blame.blockReceived('honest', 1, BLOCK, blockOf(1)), false);
    assert.equal(blame.blockReceived('honest', 1, BLOCK, Buffer.from(blockOf(1))), false);
    assert.equal(blame.blockReceived('liar', 1, BLOCK, garbage()), false);
    assert.equal(blame.blockReceived('liar', 1, BLOCK, garbage()), true);
  });
});
