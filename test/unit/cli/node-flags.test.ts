import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_NODE_FLAGS } from '../../../src/cli/node-flags.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

test('the shebang and `npm start` run the CLI with CLI_NODE_FLAGS (what tests and the bench use)', () => {
  const shebang = readFileSync(`${root}src/cli/main.ts`, 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${CLI_NODE_FLAGS.join(' ')}`);
  const start = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).scripts.start as string;
  assert.ok(start.includes(`node ${CLI_NODE_FLAGS.join(' ')} dist/src/cli/main.js`), start);
});
