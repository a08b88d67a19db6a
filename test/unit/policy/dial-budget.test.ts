import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DIAL_PRESSURE_WAITING,
  DialBudget,
  dialTimeouts,
  PRESSURE_CONNECT_TIMEOUT_MS,
  PRESSURE_HANDSHAKE_TIMEOUT_MS,
} from '../../../src/policy/dial-budget.js';
import { FakeClock } from '../../helpers/fake-clock.js';

/** A budget whose bucket never limits (the half-open bound alone). */
function unpaced(clock: FakeClock): DialBudget {
  return new DialBudget(() => clock.now(), { maxHalfOpen: 100, burst: 1000, attemptsPerSecond: 1000 });
}

describe('DialBudget', () => {
  test('half-open dials are bounded apart from the connection cap', () => {
    const budget = unpaced(new FakeClock());
    // 50 connection slots, none used: up to 100 dials in flight at once, not 50.
    assert.equal(budget.allowance({ connected: 0, dialing: 0, maxPeers: 50 }), 100);
    budget.started(70);
    assert.equal(budget.halfOpen, 70);
    assert.equal(budget.allowance({ connected: 10, dialing: 0, maxPeers: 50 }), 30);
    budget.started(30);
    assert.equal(budget.allowance({ connected: 0, dialing: 0, maxPeers: 50 }), 0, 'half-open bound reached');
    budget.ended();
    budget.ended();
    assert.equal(
      budget.allowance({ connected: 45, dialing: 0, maxPeers: 50 }),
      2,
      'two dials ended: two places',
    );
    assert.equal(budget.allowance({ connected: 50, dialing: 0, maxPeers: 50 }), 0, 'no slot free: no dial');
  });

  test('a torrent dials at most two ahead per free connection slot', () => {
    const budget = unpaced(new FakeClock());
    assert.equal(budget.allowance({ connected: 45, dialing: 0, maxPeers: 50 }), 10);
    assert.equal(budget.allowance({ connected: 45, dialing: 7, maxPeers: 50 }), 3);
    assert.equal(budget.allowance({ connected: 49, dialing: 2, maxPeers: 50 }), 0);
    assert.equal(budget.allowance({ connected: 0, dialing: 0, maxPeers: 10 }), 20);
  });

  test('one budget shared by several torrents bounds their half-open dials together', () => {
    const budget = unpaced(new FakeClock());
    budget.started(budget.allowance({ connected: 0, dialing: 0, maxPeers: 50 }));
    assert.equal(budget.allowance({ connected: 0, dialing: 0, maxPeers: 50 }), 0, 'a second torrent waits');
    for (let i = 0; i < 100; i++) budget.ended();
    budget.ended(); // more ends than starts never makes room beyond the bound
    assert.equal(budget.halfOpen, 0);
    assert.equal(budget.allowance({ connected: 0, dialing: 0, maxPeers: 50 }), 100);
  });

  test('attempts are paced by a token bucket: hundreds per second, bursts bounded', () => {
    const clock = new FakeClock();
    const budget = new DialBudget(() => clock.now(), { maxHalfOpen: 100, burst: 50, attemptsPerSecond: 200 });
    const state = { connected: 0, dialing: 0, maxPeers: 50 };
    assert.equal(budget.allowance(state), 50);
    budget.started(50);
    for (let i = 0; i < 50; i++) budget.ended(); // all refused at once
    assert.equal(budget.allowance(state), 0);
    assert.equal(budget.nextTokenInMs(), 5);
    clock.advance(100);
    assert.equal(budget.allowance(state), 20);
    // Refused dials come back at once: over one second of such rounds, about 200 attempts.
    let started = 0;
    for (let ms = 0; ms < 1000; ms += 10) {
      clock.advance(10);
      const n = budget.allowance(state);
      budget.started(n);
      for (let i = 0; i < n; i++) budget.ended();
      started += n;
    }
    assert.ok(started >= 190 && started <= 220, `${started} attempts in one second`);
    clock.advance(60_000);
    assert.equal(budget.allowance(state), 50, 'a quiet spell refills only up to the burst');
  });
});

describe('dialTimeouts', () => {
  const configured = { connectMs: 10_000, handshakeMs: 10_000 };
  test('the configured timeouts while few addresses wait', () => {
    assert.deepEqual(dialTimeouts(configured, DIAL_PRESSURE_WAITING - 1), configured);
  });
  test('shorter under pressure, never longer than configured', () => {
    assert.deepEqual(dialTimeouts(configured, DIAL_PRESSURE_WAITING), {
      connectMs: PRESSURE_CONNECT_TIMEOUT_MS,
      handshakeMs: PRESSURE_HANDSHAKE_TIMEOUT_MS,
    });
    assert.deepEqual(dialTimeouts({ connectMs: 1000, handshakeMs: 2000 }, 20_000), {
      connectMs: 1000,
      handshakeMs: 2000,
    });
  });
});
