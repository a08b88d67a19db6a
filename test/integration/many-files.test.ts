/**
 * Issue 15, "Torrents with many files": a 4,000-file torrent with 256 KiB pieces (each piece
 * spans about 170 files) seeded and downloaded by the `lodestone` command, both under
 * `ulimit -n 256` (soft and hard: Node cannot raise it). Before the open-file budget, the
 * download died with EMFILE ("too many open files") at `ulimit -n 1024` already. Also: what we
 * rely on from Node about RLIMIT_NOFILE, stated as a test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../helpers/lodestone-cli.js';
import { manyFilePath, writeManyFilesTorrent } from '../helpers/many-files.js';

const FILES = 4000;
const LIMIT = 256;

test(`4,000 files in 256 KiB pieces: seeded and downloaded byte-exact under ulimit -n ${LIMIT}`, {
  timeout: 90_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-many-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const content = join(dir, 'content');
  const torrentBytes = await writeManyFilesTorrent(content, { count: FILES, pieceLength: 256 * 1024 });
  const torrent = join(dir, 'many.torrent');
  await writeFile(torrent, torrentBytes);

  const seeder = runCli(
    ['seed', torrent, content, '--json', '-p', '0', '--bind', '127.0.0.91', '--no-trackers'],
    { openFileLimit: LIMIT },
  );
  t.after(() => seeder.stop());
  const start = await seeder.waitFor((e) => e.type === 'start', 20_000);
  // The resume check reads every piece (each spans ~170 files): it must find all of them valid.
  const checked = await seeder.waitFor((e) => e.type === 'checking' && e.checked === e.total, 30_000);
  assert.equal(
    checked.valid,
    checked.total,
    `the seeder's check found all its data: ${JSON.stringify(checked)}`,
  );

  const out = join(dir, 'out');
  const leecher = runCli(
    [
      'download',
      torrent,
      '-o',
      out,
      '--json',
      '-p',
      '0',
      '--bind',
      '127.0.0.92',
      '--no-trackers',
      '--peer',
      `127.0.0.91:${start.port}`,
    ],
    { openFileLimit: LIMIT },
  );
  t.after(() => leecher.stop());
  const { code, stderr } = await leecher.exited;
  assert.equal(code, 0, `the download succeeded: ${stderr.slice(-1000)}`);
  assert.ok(!leecher.events.some((e) => e.type === 'error'), 'no error event');
  assert.ok(!seeder.events.some((e) => e.type === 'error'), `the seeder reported no error`);

  for (let i = 0; i < FILES; i++) {
    const path = ['many', ...manyFilePath(i)];
    const [got, want] = await Promise.all([readFile(join(out, ...path)), readFile(join(content, ...path))]);
    assert.ok(got.equals(want), `file ${path.join('/')} is byte-exact`);
  }
});

test('Node raises the soft RLIMIT_NOFILE to the hard limit at startup (what the default budget reads)', {
  timeout: 30_000,
  skip: process.platform !== 'linux' && 'reads /proc/self/limits',
}, () => {
  const script =
    "const l = require('fs').readFileSync('/proc/self/limits', 'utf8');" +
    'const m = /^Max open files\\s+(\\S+)\\s+(\\S+)/m.exec(l); console.log(m[1] + " " + m[2]);';
  // Soft 256, hard left as it is (at least 1024 here, or the check says so).
  const run = spawnSync(
    'bash',
    ['-c', `ulimit -H -n; ulimit -S -n ${LIMIT} && exec "$0" -e "$1"`, process.execPath, script],
    {
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  assert.equal(run.status, 0, run.stderr);
  const [hardBefore, seen] = run.stdout.trim().split('\n');
  const [soft, hard] = seen!.split(' ');
  assert.ok(
    hardBefore === 'unlimited' || Number(hardBefore) > LIMIT,
    `hard limit ${hardBefore} is above ${LIMIT}`,
  );
  assert.equal(hard, hardBefore, 'the hard limit is inherited');
  assert.equal(soft, hard, 'the soft limit was raised to the hard one');
});
