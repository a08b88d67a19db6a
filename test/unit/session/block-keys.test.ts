import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BlockKeys } from '../../../src/session/peer-state.js';

describe('BlockKeys', () => {
  test('a key maps back to its block and no two blocks share one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 14 }).map((exp) => 16_384 * 2 ** exp - (exp === 0 ? 0 : 1)),
        fc.integer({ min: 0, max: 2 ** 20 }),
        fc.nat(),
        (pieceLength, index, blockSeed) => {
          const keys = new BlockKeys({ pieceLength });
          const blocks = Math.ceil(pieceLength / 16_384);
          const begin = (blockSeed % blocks) * 16_384;
          const key = keys.of(index, begin);
          assert.equal(keys.indexOf(key), index);
          assert.equal(keys.beginOf(key), begin);
          assert.ok(Number.isInteger(key));
          // The next piece's first block follows this piece's last one.
          assert.ok(keys.of(index, (blocks - 1) * 16_384) < keys.of(index + 1, 0));
        },
      ),
    );
  });
});
