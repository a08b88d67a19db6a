import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { idleMs, isStalled, stalledAt } from '../../../src/policy/torrent-activity.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const MIN = 60_000;
const T0 = 1_700_000_000_000;

describe('stalled', () => {
  const on = { 'queue-stalled-enabled': true, 'queue-stalled-minutes': 30 };

  test('stalled after queue-stalled-minutes without payload, counted from the later of start and activity', () => {
    const facts = { running: true, startedAt: T0, lastActiveAt: T0 + 10 * MIN };
    assert.equal(isStalled(facts, on, T0 + 40 * MIN - 1), false);
    assert.equal(isStalled(facts, on, T0 + 40 * MIN), true);
    assert.equal(stalledAt(facts, on), T0 + 40 * MIN);
    assert.equal(isStalled({ ...facts, lastActiveAt: undefined }, on, T0 + 30 * MIN), true);
    assert.equal(
      isStalled({ ...facts, lastActiveAt: T0 - 99 * MIN }, on, T0 + 29 * MIN),
      false,
      'a fresh start',
    );
  });

  test('never when not running, never started, or detection off', () => {
    const facts = { running: true, startedAt: T0, lastActiveAt: undefined };
    assert.equal(isStalled({ ...facts, running: false }, on, T0 + 999 * MIN), false);
    assert.equal(isStalled({ ...facts, startedAt: undefined }, on, T0 + 999 * MIN), false);
    assert.equal(isStalled({ ...facts, startedAt: 0, lastActiveAt: 0 }, on, T0), false, '0 is never');
    assert.equal(isStalled(facts, { ...on, 'queue-stalled-enabled': false }, T0 + 999 * MIN), false);
    assert.equal(stalledAt(facts, { ...on, 'queue-stalled-enabled': false }), undefined);
    assert.equal(idleMs(facts, T0 - 5), 0, 'a clock that went back counts as no idle time');
  });

  test('property: stalled exactly from stalledAt on', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined }),
        fc.boolean(),
        fc.nat(100),
        fc.integer({ min: 0, max: 2e9 }),
        (running, startedAt, lastActiveAt, enabled, minutes, now) => {
          const facts = { running, startedAt, lastActiveAt };
          const s = { 'queue-stalled-enabled': enabled, 'queue-stalled-minutes': minutes };
          const at = stalledAt(facts, s);
          assert.equal(isStalled(facts, s, now), at !== undefined && now >= at);
        },
      ),
      { numRuns: RUNS * 5 },
    );
  });
});
