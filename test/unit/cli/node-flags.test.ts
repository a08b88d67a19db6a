import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_NODE_FLAGS } from '../../../src/cli/node-flags.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

test('the shebang and `npm start` run the CLI with CLI_NODE_FLAGS (what tests and the bench use)', () => {
  const expected = `#!/usr/bin/env -S node ${CLI_NODE_FLAGS.join(' ')}`;
  assert.equal(readFileSync(`${root}src/cli/main.ts`, 'utf8').split('\n')[0], expected);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  assert.ok(
    pkg.scripts.start.includes(`node ${CLI_NODE_FLAGS.join(' ')} ${pkg.bin.lodestone}`),
    pkg.scripts.start,
  );
  // The installed command is the bundle: it must keep the shebang.
  assert.equal(readFileSync(`${root}${pkg.bin.lodestone}`, 'utf8').split('\n')[0], expected);
});
