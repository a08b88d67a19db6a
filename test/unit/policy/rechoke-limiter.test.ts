import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RechokeLimiter } from '../../../src/policy/rechoke-limiter.js';

function clock(start = 5_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RechokeLimiter', () => {
  test('the first event gets a round at once', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now });
    assert.equal(limiter.request(), 0);
    assert.ok(limiter.due());
  });

  test('10,000 events within a second cause one round, the next one a second after the last', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now, minGapMs: 1000 });
    let rounds = 0;
    let timerAt: number | undefined;
    const start = time.now();
    // The caller's loop: one timer per asked-for round; a round runs when its timer fires and it is due.
    for (let i = 0; i < 10_000; i++) {
      const delay = limiter.request();
      if (delay !== undefined) timerAt = time.now() + delay;
      if (timerAt !== undefined && time.now() >= timerAt && limiter.due()) {
        limiter.ran();
        rounds++;
        timerAt = undefined;
      }
      time.advance(0.1);
    }
    assert.equal(rounds, 1, 'one round in the first second, whatever the number of events');
    assert.equal(timerAt, start + 1000, 'the next round is set for a second after the first');
    assert.equal(limiter.request(), undefined, 'already asked for: no second timer');
    assert.ok(!limiter.due());
    time.advance(start + 1000 - time.now());
    assert.ok(limiter.due());
    limiter.ran();
    assert.ok(!limiter.due(), 'nothing asked since');
  });

  test('the regular round comes every 10 s without events', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now, roundIntervalMs: 10_000 });
    assert.ok(limiter.due(), 'never ran: due');
    limiter.ran();
    time.advance(9_999);
    assert.ok(!limiter.due());
    time.advance(1);
    assert.ok(limiter.due());
  });

  test('an event long after the last round waits for nothing', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now });
    limiter.ran();
    time.advance(400);
    assert.equal(limiter.request(), 600);
    time.advance(600);
    assert.ok(limiter.due());
    limiter.ran();
    time.advance(5000);
    assert.equal(limiter.request(), 0);
  });
});
