import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCI } from '../../helpers/tools.js';

describe('isCI: when a missing tool fails a test instead of skipping it', () => {
  test('any non-empty CI counts, whatever the service sets', () => {
    for (const value of ['true', 'TRUE', '1', 'yes', 'github-actions', 'woodpecker'])
      assert.equal(isCI({ CI: value }), true, `CI=${value}`);
  });

  test('unset, empty, false and 0 do not', () => {
    assert.equal(isCI({}), false, 'unset');
    for (const value of ['', '  ', 'false', 'FALSE', '0', ' 0 '])
      assert.equal(isCI({ CI: value }), false, `CI=${JSON.stringify(value)}`);
  });

  test('reads process.env by default', () => {
    const saved = process.env.CI;
    try {
      process.env.CI = '1';
      assert.equal(isCI(), true);
      process.env.CI = 'false';
      assert.equal(isCI(), false);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
  });
});
