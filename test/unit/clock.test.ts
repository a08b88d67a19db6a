import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('systemClock', () => {
  test('reads Date.now; its timers never keep the process alive', () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
    const handle = systemClock.setTimeout(() => assert.fail('cleared timer fired'), 60_000) as NodeJS.Timeout;
    assert.equal(handle.hasRef(), false, 'unref()d');
    systemClock.clearTimeout(handle);
    systemClock.clearTimeout(undefined);
  });
});

describe('FakeClock (test helper)', () => {
  test('timers fire in due order, each at its own time, only when time is moved', () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 100);
    const cleared = clock.setTimeout(() => fired.push('cleared'), 150);
    clock.clearTimeout(cleared);
    assert.deepEqual(fired, []);
    clock.advance(99);
    assert.deepEqual(fired, []);
    clock.advance(101);
    assert.deepEqual(fired, ['a@100', 'b@200']);
    assert.equal(clock.now(), 200);
    assert.equal(clock.pendingTimers, 0);
  });

  test('a timer set by a callback fires within the same step when due', () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const every = (): void => {
      fired.push(clock.now());
      clock.setTimeout(every, 30);
    };
    clock.setTimeout(every, 30);
    clock.advance(100);
    assert.deepEqual(fired, [30, 60, 90]);
    assert.equal(clock.now(), 100);
  });

  test('a timer loop at no delay fails the test instead of hanging it', () => {
    const clock = new FakeClock(0);
    const spin = (): void => {
      clock.setTimeout(spin, 0);
    };
    clock.setTimeout(spin, 0);
    assert.throws(() => clock.advance(1), /timer loop/);
  });

  test('time never moves back', () => {
    assert.throws(() => new FakeClock().advance(-1), RangeError);
  });
});
