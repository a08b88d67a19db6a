import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_NODE_ENV, CLI_NODE_FLAGS, cliShebang } from '../../../src/cli/node-flags.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

test('the shebang and `npm start` run the CLI with CLI_NODE_ENV and CLI_NODE_FLAGS (what tests and the bench use)', () => {
  const expected = cliShebang();
  assert.equal(
    expected,
    '#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=33554432 MALLOC_MMAP_THRESHOLD_=33554432 node --max-semi-space-size=2 --heap-growing-percent=10',
  );
  assert.ok(expected.length < 256, "within Linux's limit for a #! line (BINPRM_BUF_SIZE, since 5.1)");
  assert.equal(readFileSync(`${root}src/cli/main.ts`, 'utf8').split('\n')[0], expected);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  // The installed command is the bundle: it must keep the shebang, and `npm start` runs it through it.
  assert.equal(readFileSync(`${root}${pkg.bin.lodestone}`, 'utf8').split('\n')[0], expected);
  assert.ok(pkg.scripts.start.endsWith(`&& ${pkg.bin.lodestone} demo`), pkg.scripts.start);
  assert.ok(statSync(`${root}${pkg.bin.lodestone}`).mode & 0o100, 'the bundle is executable');
});

test('CLI_NODE_ENV and CLI_NODE_FLAGS reach a process started through that shebang', () => {
  // The same #! line on a probe script, run the way a user runs `lodestone`: by the kernel.
  const dir = mkdtempSync(join(tmpdir(), 'lodestone-shebang-'));
  try {
    const probe = join(dir, 'probe.js');
    writeFileSync(
      probe,
      `${cliShebang()}\nprocess.stdout.write(JSON.stringify({ env: process.env, flags: process.execArgv }));\n`,
    );
    chmodSync(probe, 0o755);
    const result = spawnSync(probe, [], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const { env, flags } = JSON.parse(result.stdout) as { env: Record<string, string>; flags: string[] };
    for (const [name, value] of Object.entries(CLI_NODE_ENV)) assert.equal(env[name], value, name);
    assert.deepEqual(flags, CLI_NODE_FLAGS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
