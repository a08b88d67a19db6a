import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateMeter } from '../../../src/peer/rate-meter.js';

// A peer that chokes us for seconds before it sends (Transmission unchokes on a 10 s tick) must
// not read 5× slow for its first seconds: the downloader keeps 1.5 s of that rate in flight, and
// a peer that serves exactly what is queued (Transmission, every 500 ms) would then ramp up slowly.
test('RateMeter measures from the first byte: an idle start is not averaged in', () => {
  let now = 100_000;
  const meter = new RateMeter(5, () => now);
  now += 4500; // connected, choked, nothing yet
  assert.equal(meter.rate(), 0);
  for (let i = 0; i < 4; i++) {
    meter.add(250_000);
    now += 250;
  }
  // 1,000,000 bytes in the 1 s since the first byte.
  assert.equal(meter.rate(), 1_000_000);
  now += 1000;
  meter.add(1_000_000);
  assert.equal(meter.rate(), 1_000_000, '2,000,000 bytes over the 2 s since the first byte');
});
