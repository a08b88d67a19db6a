import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueryRateLimiter } from '../../../src/dht/rate-limit.js';
import { FakeClock } from '../../helpers/fake-clock.js';

function allowed(limiter: QueryRateLimiter, host: string, times: number): number {
  let count = 0;
  for (let i = 0; i < times; i++) if (limiter.allow(host)) count++;
  return count;
}

describe('query rate limit per source', () => {
  test('a flood from one IP gets its burst, then its rate', () => {
    const clock = new FakeClock();
    const limiter = new QueryRateLimiter({ clock, ratePerSecond: 5, burst: 25 });
    assert.equal(allowed(limiter, '203.0.113.1', 1000), 25);
    clock.advance(1000);
    assert.equal(allowed(limiter, '203.0.113.1', 1000), 5);
    clock.advance(200);
    assert.equal(allowed(limiter, '203.0.113.1', 10), 1);
    assert.equal(allowed(limiter, '203.0.113.2', 3), 3, 'another IP is not affected');
  });

  test('a quiet source refills to its burst, not beyond', () => {
    const clock = new FakeClock();
    const limiter = new QueryRateLimiter({ clock, ratePerSecond: 5, burst: 10 });
    allowed(limiter, '203.0.113.1', 10);
    clock.advance(3_600_000);
    assert.equal(allowed(limiter, '203.0.113.1', 100), 10);
  });

  test('IPv6 sources are limited per /64; IPv4-mapped ones per IPv4 address', () => {
    const clock = new FakeClock();
    const limiter = new QueryRateLimiter({ clock, ratePerSecond: 1, burst: 4 });
    assert.equal(allowed(limiter, '2001:db8:1:2::1', 3) + allowed(limiter, '2001:db8:1:2:ffff::9', 3), 4);
    assert.equal(allowed(limiter, '2001:db8:1:3::1', 3), 3);
    assert.equal(allowed(limiter, '::ffff:192.0.2.1', 4) + allowed(limiter, '::ffff:192.0.2.2', 4), 8);
  });

  test('a flood of spoofed sources cannot grow the table, and the global bucket bounds the answers', () => {
    const clock = new FakeClock();
    const limiter = new QueryRateLimiter({
      clock,
      maxTracked: 100,
      globalRatePerSecond: 50,
      globalBurst: 200,
    });
    let answered = 0;
    for (let i = 0; i < 20_000; i++) {
      if (limiter.allow(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)) answered++;
    }
    assert.equal(limiter.trackedCount(), 100);
    assert.ok(limiter.memoryBytes() < 100 * 200);
    assert.equal(answered, 200, 'only the global burst');
    clock.advance(1000);
    assert.equal(
      allowed(limiter, '192.0.2.1', 100),
      25,
      'the global bucket refilled 50, the source allows 25',
    );
  });
});
