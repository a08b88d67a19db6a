/**
 * Bitfield: the count of a received bitfield (taken a byte at a time) and `full` agree with bit
 * by bit; spare bits past the size are never counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Bitfield } from '../../src/bitfield.js';

test('a received bitfield counts exactly its bits below the size, spare bits ignored', () => {
  fc.assert(
    fc.property(
      fc
        .integer({ min: 0, max: 200 })
        .chain((size) =>
          fc.tuple(
            fc.constant(size),
            fc.uint8Array({ minLength: Math.ceil(size / 8), maxLength: Math.ceil(size / 8) }),
          ),
        ),
      ([size, bytes]) => {
        const field = new Bitfield(size, bytes);
        let expected = 0;
        for (let i = 0; i < size; i++) if ((bytes[i >> 3]! >> (7 - (i & 7))) & 1) expected++;
        assert.equal(field.count, expected);
        assert.equal(field.complete, expected === size);
        assert.equal([...field.indices()].length, expected);
      },
    ),
  );
});

test('Bitfield.full sets every bit below the size and no spare bit', () => {
  for (const size of [0, 1, 7, 8, 9, 15, 16, 17, 1000, 1001]) {
    const field = Bitfield.full(size);
    assert.equal(field.count, size);
    assert.ok(field.complete);
    assert.ok(Bitfield.spareBitsClear(size, field.bytes), `spare bits clear at ${size}`);
    for (let i = 0; i < size; i++) assert.ok(field.has(i));
  }
});
