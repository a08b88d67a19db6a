import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkSeedLimits,
  isFinished,
  RATIO_INFINITE,
  RATIO_NOT_AVAILABLE,
  ratioBytesLeft,
  ratioModeOnManualStart,
  type SeedFacts,
  type SeedLimitSettings,
  uploadRatio,
} from '../../../src/policy/seed-limits.js';
import { idleMs } from '../../../src/policy/torrent-activity.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const MIN = 60_000;
const T0 = 1_700_000_000_000;

function seed(facts: Partial<SeedFacts> = {}): SeedFacts {
  return {
    running: true,
    startedAt: T0,
    lastActiveAt: undefined,
    done: true,
    uploadedEver: 0,
    sizeWhenDone: 1000,
    haveValid: 1000,
    seedRatioMode: 'global',
    seedRatioLimit: 2,
    seedIdleMode: 'global',
    seedIdleLimit: 30,
    ...facts,
  };
}

const globals: SeedLimitSettings = {
  'ratio-limit': 2,
  'ratio-limit-enabled': true,
  'idle-seeding-limit': 30,
  'idle-seeding-limit-enabled': false,
};

describe('seed ratio', () => {
  test('uploaded / size when done, with Transmission’s special values', () => {
    assert.equal(uploadRatio(500, 1000), 0.5);
    assert.equal(uploadRatio(0, 0), RATIO_NOT_AVAILABLE);
    assert.equal(uploadRatio(5, 0), RATIO_INFINITE);
  });

  test('stops at floor(size × limit) uploaded, not a byte earlier', () => {
    assert.deepEqual(checkSeedLimits(seed({ uploadedEver: 1999 }), globals, T0), {
      stop: undefined,
      ratioBytesLeft: 1,
      idleDeadline: undefined,
    });
    assert.equal(checkSeedLimits(seed({ uploadedEver: 2000 }), globals, T0).stop, 'ratio');
    assert.equal(
      ratioBytesLeft(seed({ sizeWhenDone: 999, seedRatioLimit: 1.5, seedRatioMode: 'single' }), globals),
      1498,
    );
  });

  test('a torrent added complete (nothing downloaded) still measures against its size', () => {
    const verdict = checkSeedLimits(seed({ uploadedEver: 0 }), { ...globals, 'ratio-limit': 1 }, T0);
    assert.equal(verdict.stop, undefined);
    assert.equal(verdict.ratioBytesLeft, 1000);
  });

  test('modes: global follows the setting, single its own, unlimited none', () => {
    const off = { ...globals, 'ratio-limit-enabled': false };
    assert.equal(ratioBytesLeft(seed({ uploadedEver: 5000 }), off), undefined);
    assert.equal(
      ratioBytesLeft(seed({ uploadedEver: 500, seedRatioMode: 'single', seedRatioLimit: 0.5 }), off),
      0,
    );
    assert.equal(
      checkSeedLimits(seed({ uploadedEver: 9e9, seedRatioMode: 'unlimited' }), globals, T0).stop,
      undefined,
    );
  });

  test('only a running, done torrent is stopped', () => {
    assert.equal(checkSeedLimits(seed({ uploadedEver: 5000, done: false }), globals, T0).stop, undefined);
    assert.equal(checkSeedLimits(seed({ uploadedEver: 5000, running: false }), globals, T0).stop, undefined);
  });

  test('finished: the ratio reached with something verified, or stopped by the idle limit', () => {
    assert.equal(isFinished(seed({ uploadedEver: 2000 }), globals, false), true);
    assert.equal(isFinished(seed({ uploadedEver: 1999 }), globals, false), false);
    assert.equal(isFinished(seed({ uploadedEver: 0, sizeWhenDone: 0, haveValid: 0 }), globals, false), false);
    assert.equal(isFinished(seed({ uploadedEver: 0 }), globals, true), true);
  });

  test('a user start of a torrent past its ratio turns its ratio limit off', () => {
    assert.deepEqual(ratioModeOnManualStart(seed({ uploadedEver: 2000 }), globals), {
      seedRatioMode: 'unlimited',
    });
    assert.equal(ratioModeOnManualStart(seed({ uploadedEver: 10 }), globals), undefined);
  });
});

describe('seed idle limit', () => {
  const idleOn = { ...globals, 'ratio-limit-enabled': false, 'idle-seeding-limit-enabled': true };

  test('stops after the limit without upload, counted from the later of start and activity', () => {
    const facts = seed({ lastActiveAt: T0 + 5 * MIN });
    const verdict = checkSeedLimits(facts, idleOn, T0 + 35 * MIN - 1);
    assert.equal(verdict.stop, undefined);
    assert.equal(verdict.idleDeadline, T0 + 35 * MIN);
    assert.equal(checkSeedLimits(facts, idleOn, T0 + 35 * MIN).stop, 'idle');
    assert.equal(
      checkSeedLimits(seed({ lastActiveAt: T0 - 60 * MIN }), idleOn, T0 + 29 * MIN).stop,
      undefined,
    );
  });

  test('the ratio is checked first; a per-torrent limit overrides the global one', () => {
    const both = { ...idleOn, 'ratio-limit-enabled': true };
    assert.equal(checkSeedLimits(seed({ uploadedEver: 2000 }), both, T0 + 99 * MIN).stop, 'ratio');
    const single = seed({ seedIdleMode: 'single', seedIdleLimit: 1 });
    assert.equal(checkSeedLimits(single, globals, T0 + MIN).stop, 'idle');
    assert.equal(
      checkSeedLimits(seed({ seedIdleMode: 'unlimited' }), idleOn, T0 + 999 * MIN).stop,
      undefined,
    );
  });

  test('property: stops exactly when a limit is reached', () => {
    const facts = fc.record({
      running: fc.boolean(),
      startedAt: fc.option(fc.integer({ min: T0 - 100 * MIN, max: T0 }), { nil: undefined }),
      lastActiveAt: fc.option(fc.integer({ min: T0 - 100 * MIN, max: T0 }), { nil: undefined }),
      done: fc.boolean(),
      uploadedEver: fc.nat(10_000),
      sizeWhenDone: fc.nat(5_000),
      haveValid: fc.nat(5_000),
      seedRatioMode: fc.constantFrom('global', 'single', 'unlimited'),
      seedRatioLimit: fc.double({ min: 0, max: 4, noNaN: true }),
      seedIdleMode: fc.constantFrom('global', 'single', 'unlimited'),
      seedIdleLimit: fc.nat(120),
    }) as fc.Arbitrary<SeedFacts>;
    const settings = fc.record({
      'ratio-limit': fc.double({ min: 0, max: 4, noNaN: true }),
      'ratio-limit-enabled': fc.boolean(),
      'idle-seeding-limit': fc.nat(120),
      'idle-seeding-limit-enabled': fc.boolean(),
    });
    fc.assert(
      fc.property(facts, settings, fc.integer({ min: 0, max: 300 * MIN }), (f, s, dt) => {
        const now = T0 + dt;
        const verdict = checkSeedLimits(f, s, now);
        const ratio =
          f.seedRatioMode === 'single'
            ? f.seedRatioLimit
            : f.seedRatioMode === 'global' && s['ratio-limit-enabled']
              ? s['ratio-limit']
              : undefined;
        const ratioReached = ratio !== undefined && f.uploadedEver >= Math.floor(f.sizeWhenDone * ratio);
        const idleLimit =
          f.seedIdleMode === 'single'
            ? f.seedIdleLimit
            : f.seedIdleMode === 'global' && s['idle-seeding-limit-enabled']
              ? s['idle-seeding-limit']
              : undefined;
        const idle = idleMs(f, now);
        const idleReached = idleLimit !== undefined && idle !== undefined && idle >= idleLimit * MIN;
        const expected =
          !f.running || !f.done ? undefined : ratioReached ? 'ratio' : idleReached ? 'idle' : undefined;
        assert.equal(verdict.stop, expected);
        if (verdict.idleDeadline !== undefined && now < verdict.idleDeadline)
          assert.notEqual(verdict.stop, 'idle');
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
