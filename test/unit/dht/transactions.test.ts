/**
 * The table of our outstanding queries on a fake clock: replies match by tid and address only,
 * timeouts fire on time and adapt to measured RTTs, the slow mark, and the bound.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransactionTable } from '../../../src/dht/transactions.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const A = { host: '10.0.0.1', port: 6881 };
const B = { host: '10.0.0.2', port: 6881 };

function setup(options: { maxOutstanding?: number } = {}) {
  const clock = new FakeClock();
  const timedOut: string[] = [];
  const slow: string[] = [];
  const table = new TransactionTable<string>({
    clock,
    onTimeout: (value) => timedOut.push(value),
    onSlow: (value) => slow.push(value),
    ...options,
  });
  return { clock, table, timedOut, slow };
}

describe('TransactionTable', () => {
  test('a reply matches only its tid from the address queried', () => {
    const { table } = setup();
    const tid = table.open(A, 'q1')!;
    assert.equal(tid.length, 2);
    assert.equal(table.resolve(tid, B), undefined, 'same tid, another address');
    assert.equal(table.resolve(tid, { host: A.host, port: 6882 }), undefined, 'another port');
    assert.equal(table.resolve(Uint8Array.of(tid[0]!, tid[1]! ^ 1), A), undefined, 'another tid');
    assert.equal(table.resolve(Uint8Array.of(tid[0]!, tid[1]!, 0), A), undefined, 'a 3-byte tid');
    assert.equal(table.size, 1);
    assert.equal(table.resolve(tid, A)?.value, 'q1');
    assert.equal(table.resolve(tid, A), undefined, 'answered once only');
    assert.equal(table.size, 0);
  });

  test('tids differ between outstanding queries', () => {
    const { table } = setup();
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(Buffer.from(table.open(A, `q${i}`)!).toString('hex'));
    assert.equal(seen.size, 200);
  });

  test('a query times out after the timeout and not before; a late reply is ignored', () => {
    const { clock, table, timedOut } = setup();
    const tid = table.open(A, 'q1')!;
    clock.advance(1999);
    assert.deepEqual(timedOut, []);
    clock.advance(1);
    assert.deepEqual(timedOut, ['q1']);
    assert.equal(table.resolve(tid, A), undefined);
    assert.equal(clock.pendingTimers, 0);
  });

  test('the timeout adapts to measured round trips, within its clamps', () => {
    const { clock, table, timedOut } = setup();
    assert.equal(table.timeoutMs, 2000);
    for (let i = 0; i < 20; i++) {
      const tid = table.open(A, 'fast')!;
      clock.advance(100);
      assert.ok(table.resolve(tid, A));
    }
    assert.equal(table.timeoutMs, 500, 'clamped to the minimum');
    table.open(A, 'late');
    clock.advance(500);
    assert.deepEqual(timedOut, ['late']);
    for (let i = 0; i < 40; i++) {
      const tid = table.open(A, 'slow')!;
      clock.advance(i % 2 === 0 ? 300 : 450);
      assert.ok(table.resolve(tid, A));
    }
    assert.ok(table.timeoutMs > 500 && table.timeoutMs < 2000, `timeout ${table.timeoutMs}`);
  });

  test('the slow mark fires once, the query stays outstanding', () => {
    const { clock, table, slow, timedOut } = setup();
    const tid = table.open(A, 'q1', { slow: true })!;
    table.open(B, 'q2');
    clock.advance(1000);
    assert.deepEqual(slow, ['q1'], 'only queries opened with slow');
    assert.ok(table.resolve(tid, A));
    clock.advance(5000);
    assert.deepEqual(timedOut, ['q2']);
  });

  test('the table is bounded; clear drops everything without callbacks', () => {
    const { clock, table, timedOut } = setup({ maxOutstanding: 2 });
    assert.ok(table.open(A, 'a'));
    assert.ok(table.open(B, 'b'));
    assert.equal(table.open(A, 'c'), undefined);
    table.clear();
    assert.equal(table.size, 0);
    clock.advance(10_000);
    assert.deepEqual(timedOut, []);
    assert.equal(clock.pendingTimers, 0);
  });
});
