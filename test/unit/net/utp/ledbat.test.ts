import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ledbat } from '../../../../src/net/utp/ledbat.js';

const MSS = 1400;

describe('LEDBAT', () => {
  test('slow start grows with acked bytes while the delay is low', () => {
    const l = new Ledbat({ mss: MSS });
    assert.equal(l.cwnd, 2 * MSS);
    l.onAck(2 * MSS, 1000, 2 * MSS, 0);
    assert.equal(l.cwnd, 4 * MSS);
  });

  test('a queuing delay above the 100 ms target shrinks the window; below it grows', () => {
    const l = new Ledbat({ mss: MSS });
    for (let i = 0; i < 20; i++) l.onAck(l.cwnd, 5_000, l.cwnd, 1000 * i);
    const grown = l.cwnd;
    assert.ok(grown > 100_000);
    // Delay rises 200 ms over the base: twice the target.
    for (let i = 0; i < 50; i++) l.onAck(20_000, 205_000, l.cwnd, 100_000 + 1000 * i);
    assert.equal(l.queuingDelay, 200_000);
    assert.ok(l.cwnd < grown, `${l.cwnd} < ${grown}`);
    const shrunk = l.cwnd;
    for (let i = 0; i < 50; i++) l.onAck(20_000, 5_000, l.cwnd, 200_000 + 1000 * i);
    assert.ok(l.cwnd > shrunk);
  });

  test('the base delay is the minimum over the last 10 minutes, then forgotten', () => {
    const l = new Ledbat({ mss: MSS });
    l.onAck(MSS, 1_000, MSS, 0);
    assert.equal(l.baseDelay, 1_000);
    for (let minute = 1; minute <= 10; minute++) l.onAck(MSS, 50_000, MSS, minute * 60_000_000);
    assert.equal(l.baseDelay, 50_000);
  });

  test('the base delay copes with the 32-bit wrap of timestamp differences', () => {
    const l = new Ledbat({ mss: MSS });
    l.onAck(MSS, 0xffff_fff0, MSS, 0);
    l.onAck(MSS, 0x10, MSS, 1);
    assert.equal(l.baseDelay, 0xffff_fff0);
    assert.equal(l.queuingDelay, 0x20);
  });

  test('loss halves, timeout resets to the minimum; never below it', () => {
    const l = new Ledbat({ mss: MSS });
    l.onAck(20 * MSS, 1000, 2 * MSS, 0);
    const before = l.cwnd;
    l.onLoss();
    assert.equal(l.cwnd, Math.floor(before / 2));
    l.onTimeout();
    assert.equal(l.cwnd, 2 * MSS);
    l.onLoss();
    assert.equal(l.cwnd, 2 * MSS);
  });
});
