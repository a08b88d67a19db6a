import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateMeter } from '../../../src/peer/rate-meter.js';

test('RateMeter averages over its window and forgets old seconds', () => {
  let now = 10_000;
  const meter = new RateMeter(5, () => now);
  meter.add(5000);
  assert.equal(meter.rate(), 1000);
  now += 1000;
  meter.add(5000);
  assert.equal(meter.rate(), 2000);
  now += 10_000;
  assert.equal(meter.rate(), 0);
  assert.equal(meter.total, 10_000);
});
