import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRate } from '../../../src/cli/options.js';
import { LodestoneError } from '../../../src/index.js';

test('rates: k, M, G are 1000-based, KiB, MiB, GiB 1024-based, "/s" optional', () => {
  assert.equal(parseRate('2M', '--download-limit'), 2_000_000);
  assert.equal(parseRate('500k', '--download-limit'), 500_000);
  assert.equal(parseRate('500kB/s', '--download-limit'), 500_000);
  assert.equal(parseRate('1.5MiB', '--download-limit'), 1_572_864);
  assert.equal(parseRate('64KiB/s', '--download-limit'), 65_536);
  assert.equal(parseRate('1G', '--download-limit'), 1_000_000_000);
  assert.equal(parseRate('1048576', '--download-limit'), 1_048_576);
  assert.equal(parseRate('0', '--download-limit'), 0);
  assert.equal(parseRate(undefined, '--download-limit'), undefined);
});

test('bad rates are usage errors naming the flag', () => {
  for (const bad of ['', 'fast', '-1', '2X', '1e3', '2 M B', '9'.repeat(400)]) {
    assert.throws(
      () => parseRate(bad, '--upload-limit'),
      (error: unknown) =>
        error instanceof LodestoneError &&
        error.code === 'LODESTONE_ERR_USAGE' &&
        error.message.includes('--upload-limit'),
      bad,
    );
  }
});
