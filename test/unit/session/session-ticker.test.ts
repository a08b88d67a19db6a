import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionTicker } from '../../../src/session/session-ticker.js';
import { FakeClock } from '../../helpers/fake-clock.js';

describe('SessionTicker: one tick for every torrent of a client', () => {
  test('1,000 subscribers share one timer, each called once per second', () => {
    const clock = new FakeClock();
    const ticker = new SessionTicker(clock, (error) => assert.fail(String(error)));
    const calls = new Array<number>(1000).fill(0);
    for (let i = 0; i < 1000; i++) ticker.add(() => calls[i]!++);
    assert.equal(clock.pendingTimers, 1);
    clock.advance(999);
    assert.equal(calls[0], 0);
    clock.advance(1);
    assert.deepEqual(new Set(calls), new Set([1]));
    clock.advance(3000);
    assert.deepEqual(new Set(calls), new Set([4]));
    assert.equal(clock.pendingTimers, 1);
  });

  test('no subscriber, no timer; the last unsubscribe ends it', () => {
    const clock = new FakeClock();
    const ticker = new SessionTicker(clock, () => {});
    assert.equal(clock.pendingTimers, 0);
    const off = ticker.add(() => {});
    const off2 = ticker.add(() => {});
    off();
    assert.equal(clock.pendingTimers, 1);
    off2();
    assert.equal(clock.pendingTimers, 0);
    assert.equal(ticker.size, 0);
  });

  test('a throwing subscriber is reported and the others still tick', () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const ticker = new SessionTicker(clock, (error) => errors.push(error));
    let after = 0;
    ticker.add(() => {
      throw new Error('boom');
    });
    ticker.add(() => after++);
    clock.advance(2000);
    assert.equal(after, 2);
    assert.equal(errors.length, 2);
  });

  test('a subscriber removed by an earlier one during a tick is not called', () => {
    const clock = new FakeClock();
    const ticker = new SessionTicker(clock, () => {});
    let second = 0;
    let offSecond = () => {};
    ticker.add(() => offSecond());
    offSecond = ticker.add(() => second++);
    clock.advance(1000);
    assert.equal(second, 0);
  });

  test('close forgets everyone', () => {
    const clock = new FakeClock();
    const ticker = new SessionTicker(clock, () => {});
    let n = 0;
    ticker.add(() => n++);
    ticker.close();
    clock.advance(5000);
    assert.equal(n, 0);
    assert.equal(clock.pendingTimers, 0);
  });
});
