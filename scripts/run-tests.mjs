#!/usr/bin/env node
// Runs the compiled tests (dist/test/<tier>/**/*.test.js) with Node's test runner.
// Usage: node scripts/run-tests.mjs [tier ...]   tiers: unit fuzz integration (default: all)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const tiers = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['unit', 'fuzz', 'integration'];

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

const files = tiers.flatMap((tier) => collect(join('dist', 'test', tier)));
if (files.length === 0) {
  console.error(`no compiled tests found for ${tiers.join(', ')}; run npm run build first`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  // LODESTONE_STRICT=1: an internal error (a bug caught at a boundary) is rethrown, so it fails the test.
  { stdio: 'inherit', env: { LODESTONE_STRICT: '1', ...process.env } },
);
process.exit(result.status ?? 1);
