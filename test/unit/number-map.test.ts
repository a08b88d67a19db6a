import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NumberMap } from '../../src/number-map.js';

function entriesOf(map: NumberMap): [number, number][] {
  const out: [number, number][] = [];
  map.forEach((value, key) => {
    out.push([key, value]);
  });
  return out.sort((a, b) => a[0] - b[0]);
}

test('NumberMap behaves as a Map<number, number> under any mix of set, delete and clear', () => {
  const key = fc.oneof(
    fc.integer({ min: 0, max: 40 }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    fc.integer({ min: 0, max: 64 }).map((n) => n * 2 ** 32),
  );
  const op = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.constant('set' as const), key, fc.double({ noNaN: true })) },
    { weight: 4, arbitrary: fc.tuple(fc.constant('delete' as const), key, fc.constant(0)) },
    { weight: 1, arbitrary: fc.tuple(fc.constant('clear' as const), key, fc.constant(0)) },
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (ops, capacity) => {
      const map = new NumberMap(capacity);
      const model = new Map<number, number>();
      for (const [kind, k, value] of ops) {
        if (kind === 'set') {
          map.set(k, value);
          model.set(k, value);
        } else if (kind === 'delete') {
          assert.equal(map.delete(k), model.delete(k));
        } else {
          map.clear();
          model.clear();
        }
        assert.equal(map.size, model.size);
        assert.equal(map.has(k), model.has(k));
        assert.equal(map.get(k), model.get(k));
      }
      assert.deepEqual(
        entriesOf(map),
        [...model].sort((a, b) => a[0] - b[0]),
      );
    }),
    { numRuns: 300 },
  );
});

test('NumberMap keeps working through long FIFO churn, the pattern of a request pipeline', () => {
  const map = new NumberMap(16);
  for (let key = 0; key < 100_000; key++) {
    map.set(key, key * 2);
    if (key >= 200) assert.equal(map.delete(key - 200), true);
  }
  assert.equal(map.size, 200);
  assert.equal(map.get(99_999), 199_998);
  assert.equal(map.get(99_799), undefined);
  assert.deepEqual(
    entriesOf(map).map(([key]) => key),
    Array.from({ length: 200 }, (_, i) => 99_800 + i),
  );
});

test('NumberMap.forEach may delete as it goes, but refuses a set', () => {
  const map = new NumberMap();
  for (let key = 0; key < 50; key++) map.set(key, key);
  const seen: number[] = [];
  map.forEach((value, key) => {
    seen.push(key);
    if (value % 2 === 0) map.delete(key);
  });
  assert.equal(seen.length, 50);
  assert.equal(map.size, 25);
  assert.ok(entriesOf(map).every(([key]) => key % 2 === 1));
  assert.throws(
    () =>
      map.forEach(() => {
        map.set(1000, 0);
      }),
    /set during forEach/,
  );
  map.set(1000, 0); // the guard is lifted once forEach returns, even by a throw
  assert.equal(map.get(1000), 0);
});

test('NumberMap rejects keys it cannot store', () => {
  const map = new NumberMap();
  for (const bad of [-1, -2, 1.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
    assert.throws(() => map.set(bad, 0), RangeError, String(bad));
    assert.equal(map.has(bad), false);
    assert.equal(map.delete(bad), false);
  }
  assert.equal(map.size, 0);
});
