import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RechokeLimiter } from '../../../src/policy/rechoke-limiter.js';

function clock(start = 5_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/**
 * The session's loop: an event asks for a round and sets one timer for the delay it gets; a
 * round runs when its timer fires and the limiter says it is due. `run` sends events every
 * `everyMs` for `forMs` and returns the times the rounds ran; the timer outlives a run.
 */
function driver(limiter: RechokeLimiter, time: ReturnType<typeof clock>) {
  let timerAt: number | undefined;
  return {
    run(everyMs: number, forMs: number): number[] {
      const rounds: number[] = [];
      const end = time.now() + forMs;
      while (time.now() < end) {
        const delay = limiter.request();
        if (delay !== undefined) timerAt = time.now() + delay;
        if (timerAt !== undefined && time.now() >= timerAt) {
          timerAt = undefined;
          if (limiter.due()) {
            limiter.ran();
            rounds.push(time.now());
          }
        }
        time.advance(everyMs);
      }
      return rounds;
    },
  };
}

describe('RechokeLimiter', () => {
  test('the first event gets a round at once', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now });
    assert.equal(limiter.request(), 0);
    assert.ok(limiter.due());
  });

  test('10,000 events in 10 s: a burst of 3 rounds, then one a second', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now, minGapMs: 1000, burst: 3 });
    const start = time.now();
    const rounds = driver(limiter, time).run(1, 10_000);
    assert.ok(rounds.length <= 3 + 10, `${rounds.length} rounds for 10,000 events`);
    assert.ok(rounds.length >= 10, `rounds still run: ${rounds.length}`);
    assert.deepEqual(
      rounds.slice(0, 3).map((at) => at - start),
      [0, 1, 2],
      'the burst runs at once',
    );
    for (let i = 4; i < rounds.length; i++) {
      assert.ok(
        rounds[i]! - rounds[i - 1]! >= 999.9,
        `round ${i} came ${rounds[i]! - rounds[i - 1]!} ms after`,
      );
    }
  });

  test('one asked-for round at a time: a second request while one waits sets no timer', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now, burst: 1 });
    assert.equal(limiter.request(), 0);
    limiter.ran();
    assert.equal(limiter.request(), 1000);
    assert.equal(limiter.request(), undefined);
    time.advance(999);
    assert.ok(!limiter.due());
    time.advance(1);
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

  test('after a quiet while, the burst is available again', () => {
    const time = clock();
    const limiter = new RechokeLimiter({ now: time.now, burst: 3 });
    const events = driver(limiter, time);
    events.run(1, 5000);
    time.advance(10_000);
    assert.equal(events.run(1, 3).length, 3, 'three rounds in 3 ms');
  });
});
