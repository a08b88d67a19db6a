import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateMeter } from '../../../src/peer/rate-meter.js';

test('RateMeter averages over its window and forgets old seconds', () => {
  let now = 10_000;
  const meter = new RateMeter(5, () => now);
  meter.add(5000);
  assert.equal(meter.rate(), 5000, 'a first second counts as one second, not five');
  now += 1000;
  meter.add(5000);
  assert.equal(meter.rate(), 10_000);
  now += 10_000;
  assert.equal(meter.rate(), 0);
  assert.equal(meter.total, 10_000);
});

test('RateMeter reads a steady stream at its rate whenever it is read, not a bucket low', () => {
  let now = 50_000;
  const meter = new RateMeter(5, () => now);
  // 2,000,000 B/s in 16 KiB blocks for 20 s; read at every 100 ms after the first 6 s.
  const block = 16_384;
  const interval = (block * 1000) / 2_000_000;
  let nextBlock = now;
  const readings: number[] = [];
  for (let t = 0; t < 20_000; t += 100) {
    const until = 50_000 + t;
    while (nextBlock <= until) {
      now = nextBlock;
      meter.add(block);
      nextBlock += interval;
    }
    now = until;
    if (t >= 6000) readings.push(meter.rate());
  }
  const low = Math.min(...readings);
  const high = Math.max(...readings);
  assert.ok(low > 2_000_000 * 0.98 && high < 2_000_000 * 1.02, `readings ${low}–${high}`);
});
