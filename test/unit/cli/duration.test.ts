import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from '../../../src/cli/options.js';
import { formatDurationMs, MAX_DURATION_MS, parseDurationMs } from '../../../src/duration.js';

describe('durations', () => {
  test('accepts seconds, units and combinations from the largest unit down', () => {
    const cases: Array<[string, number]> = [
      ['90', 90_000],
      ['1.5', 1500],
      ['0', 0],
      ['15s', 15_000],
      ['5m', 300_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
      ['500ms', 500],
      ['1h30m', 5_400_000],
      ['2m30s', 150_000],
      ['1m500ms', 60_500],
      ['1d2h3m4s5ms', 93_784_005],
      [' 5M ', 300_000],
    ];
    for (const [text, ms] of cases) assert.equal(parseDurationMs(text), ms, text);
  });

  test('refuses anything else', () => {
    for (const text of [
      '',
      's',
      '5x',
      '-5s',
      '1.5m',
      '30m1h',
      '5m5m',
      '5 m',
      '1e3',
      'ms',
      '1h 30m',
      '366d',
    ]) {
      assert.equal(parseDurationMs(text), undefined, JSON.stringify(text));
    }
  });

  test('formats canonically', () => {
    assert.equal(formatDurationMs(300_000), '5m');
    assert.equal(formatDurationMs(5_400_000), '1h30m');
    assert.equal(formatDurationMs(2500), '2s500ms');
    assert.equal(formatDurationMs(0), '0s');
  });

  test('format then parse is the identity (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        assert.equal(parseDurationMs(formatDurationMs(ms)), ms);
      }),
    );
  });

  test('the CLI parser gives a usage error naming the flag, and enforces a minimum', () => {
    assert.equal(parseDuration(undefined, '--seed-time'), undefined);
    assert.equal(parseDuration('1h30m', '--seed-time'), 5_400_000);
    assert.throws(() => parseDuration('soon', '--metadata-timeout'), {
      code: 'LODESTONE_ERR_USAGE',
      message: /invalid --metadata-timeout "soon" \(a duration such as 90, 15s, 5m/,
    });
    assert.throws(() => parseDuration('0', '--metadata-timeout', { min: 1 }), {
      code: 'LODESTONE_ERR_USAGE',
      message: /--metadata-timeout must be at least 1ms/,
    });
  });
});
