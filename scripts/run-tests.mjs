#!/usr/bin/env node
// Runs the compiled tests (dist/test/<tier>/**/*.test.js) with Node's test runner.
// Usage: node scripts/run-tests.mjs [tier | file.test.js ...]   tiers: unit fuzz integration (default: all)
// Every test that declares no timeout (itself or through its describe) fails after
// TEST_TIMEOUT_MS (default 120000): see scripts/test-timeout.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const tiers = args.length > 0 ? args : ['unit', 'fuzz', 'integration'];

function collect(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = tiers.flatMap((tier) => (tier.endsWith('.js') ? [tier] : collect(join('dist', 'test', tier))));
if (files.length === 0) {
  console.error(`no compiled tests found for ${tiers.join(', ')}; run npm run build first`);
  process.exit(1);
}
const timeout = process.env.TEST_TIMEOUT_MS ?? '120000';
if (!/^[1-9][0-9]*$/.test(timeout)) {
  console.error(`TEST_TIMEOUT_MS must be a positive integer of milliseconds, not ${JSON.stringify(timeout)}`);
  process.exit(1);
}
const preload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'test-timeout.mjs')).href;
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    preload,
    '--test',
    '--test-force-exit',
    `--test-concurrency=${concurrency}`,
    '--test-reporter=spec',
    ...files,
  ],
  // LODESTONE_STRICT=1: an internal error (a bug caught at a boundary) is rethrown, so it fails the test.
  { stdio: 'inherit', env: { LODESTONE_STRICT: '1', ...process.env, TEST_TIMEOUT_MS: timeout } },
);
process.exit(result.status ?? 1);
