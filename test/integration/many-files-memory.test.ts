/**
 * Issue 15, "Torrents with many files": `lodestone info` on a 100,000-file torrent took 1.3 s
 * and 233 MB (about 200 MB above Node's baseline): the whole decoded file list (a Map, a list
 * and a Uint8Array view per path component, a span per list and dictionary) was held at once
 * next to the parsed files (about 670 bytes each), and the listing was built as one string.
 * Now the file list is decoded one entry at a time, a parsed file costs about 180 bytes, and
 * the listing is written in batches. A child process runs the `info` command's code on such a
 * torrent and reports its peak RSS (VmHWM) before and after.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { writeManyFilesTorrent } from '../helpers/many-files.js';
import { runNodeChild } from '../helpers/node-child.js';

const FILES = 100_000;
/** Peak RSS growth allowed for `info` (measured: ~45 MB; before the fix: ~200 MB). */
const GROWTH_BOUND_MB = 90;

const CHILD = `
const { readFileSync } = await import('node:fs');
const hwm = () => Number(/^VmHWM:\\s+(\\d+)\\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const { infoCommand } = await import(process.argv[2]);
const baselineKiB = hwm();
const started = performance.now();
await infoCommand(process.argv[3], {});
const ms = performance.now() - started;
process.stderr.write(JSON.stringify({ baselineKiB, peakKiB: hwm(), ms }));
`;

test('info on a 100,000-file torrent: peak RSS grows by tens of MB, not hundreds', {
  timeout: 90_000,
  skip: process.platform !== 'linux' && 'reads VmHWM from /proc/self/status',
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-many-files-memory-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const torrent = join(dir, 'many.torrent');
  await writeFile(
    torrent,
    await writeManyFilesTorrent(dir, { count: FILES, pieceLength: 256 * 1024, writeContent: false }),
  );
  const infoModule = new URL('../../src/cli/commands/info.js', import.meta.url).href;
  const script = join(dir, 'child.mjs');
  await writeFile(script, CHILD);
  const { code, stdout, stderr } = await runNodeChild(
    t,
    [...CLI_NODE_FLAGS, script, infoModule, torrent],
    {},
    { timeoutMs: 60_000, what: 'lodestone info' },
  );
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stderr) as { baselineKiB: number; peakKiB: number; ms: number };
  const growthMB = (report.peakKiB - report.baselineKiB) / 1024;
  t.diagnostic(`info: ${report.ms.toFixed(0)} ms, peak RSS +${growthMB.toFixed(1)} MB`);
  assert.match(stdout, /^Files \(100000\):$/m, 'every file is listed (empty ones too)');
  assert.equal(stdout.match(/ many\/d\d+\//g)?.length, FILES, 'one line per file');
  assert.ok(
    growthMB < GROWTH_BOUND_MB,
    `peak RSS grew by ${growthMB.toFixed(1)} MB (bound ${GROWTH_BOUND_MB} MB)`,
  );
});
