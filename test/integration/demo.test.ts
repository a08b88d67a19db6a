/**
 * `lodestone demo` (what `npm start` runs) from the bundled command: it loads the tracker server
 * from dist/cli/demo-tracker.js (bittorrent-tracker is only a devDependency, bundled there), runs
 * a seeder process and downloads from it on loopback, and checks every byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/lodestone-cli.js';

test('lodestone demo downloads its content on loopback and verifies it', { timeout: 120_000 }, async (t) => {
  const run = runCli(['demo', '--size', '4MiB', '--no-keep']);
  t.after(() => run.stop());
  const { code, stdout, stderr } = await run.exited;
  const output = stdout + stderr;
  assert.equal(code, 0, output.slice(-2000));
  assert.match(output, /demo: tracker on http:\/\/127\.0\.0\.1:\d+\/announce/);
  assert.match(output, /verified byte for byte against the originals/);
});
