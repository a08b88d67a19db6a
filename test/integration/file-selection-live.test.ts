/**
 * The library API of file selection on a running session (issue 18), two Lodestone clients on
 * loopback: a download of one file is done, `setFiles` wanting the rest makes it not done and
 * downloads again ('done' a second time), the parked bytes move out of the part file.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createTorrent } from '../../src/create/index.js';
import { Client } from '../../src/session/client.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const SIZES = [40_000, 30_000, 50_000];

/** `promise`, or an assertion failure after `ms` (a loopback download of 120 kB takes well under a second). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const timer = new AbortController();
  return Promise.race([
    promise.finally(() => timer.abort()),
    delay(ms, undefined, { signal: timer.signal }).then(
      () => assert.fail(`${what} within ${ms} ms`),
      () => new Promise<never>(() => {}),
    ),
  ]);
}

test('setFiles on a done download: not done, downloads the new files, done again', {
  timeout: 30_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-live-files-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const content = join(dir, 'content', 'set');
  await mkdir(content, { recursive: true });
  const data = SIZES.map((size, i) => Buffer.alloc(size, i + 1).fill(i * 7 + 3, size >> 1));
  await Promise.all(data.map((bytes, i) => writeFile(join(content, `f${i}.bin`), bytes)));
  const { meta } = await createTorrent(content, { pieceLength: 16 * 1024 });

  const seeder = new Client({ port: 0, bindAddress: '127.0.22.11', hashWorkers: 1, utp: false });
  const leecher = new Client({ port: 0, bindAddress: '127.0.22.12', hashWorkers: 1, utp: false });
  t.after(() => Promise.all([seeder.close(), leecher.close()]));
  const port = await seeder.listen();
  await leecher.listen();
  await seeder.add(meta, { path: join(dir, 'content'), seed: true, useTrackers: false }).start();

  const out = join(dir, 'out');
  const session = leecher.add(meta, {
    path: out,
    seed: true,
    useTrackers: false,
    peers: [{ host: '127.0.22.11', port }],
    files: [
      { wanted: false, priority: 'normal' },
      { wanted: true, priority: 'normal' },
      { wanted: false, priority: 'normal' },
    ],
  });
  const firstDone = once(session, 'done');
  await session.start();
  await within(firstDone, 10_000, 'the first done');
  const stats = session.stats();
  assert.equal(stats.wantedBytes, SIZES[1]);
  assert.equal(stats.wantedVerifiedBytes, SIZES[1]);
  const progress = session.fileProgress();
  assert.equal(progress[1], SIZES[1]);
  // f1 spans pieces 2..4; piece 2 holds the end of f0, piece 4 the start of f2.
  assert.equal(progress[0], SIZES[0]! - 2 * 16 * 1024);
  assert.equal(progress[2], 5 * 16 * 1024 - SIZES[0]! - SIZES[1]!);
  assert.ok((await readFile(join(out, 'set', 'f1.bin'))).equals(data[1]!));
  assert.equal(await exists(join(out, 'set', 'f0.bin')), false);
  assert.equal(await exists(join(out, 'set', 'f2.bin')), false);
  assert.equal(await exists(join(out, `.${meta.infoHashHex}.parts`)), true);

  const secondDone = once(session, 'done');
  session.setFiles([
    { wanted: true, priority: 'low' },
    { wanted: true, priority: 'normal' },
    { wanted: true, priority: 'high' },
  ]);
  assert.equal(session.done, false, 'more is wanted now');
  assert.equal(session.stats().wantedBytes, meta.totalLength);
  await within(secondDone, 10_000, "the second 'done'");
  assert.equal(session.done, true);
  assert.deepEqual(session.fileProgress(), SIZES);
  for (let i = 0; i < SIZES.length; i++)
    assert.ok((await readFile(join(out, 'set', `f${i}.bin`))).equals(data[i]!), `f${i} byte-exact`);
  assert.equal(await exists(join(out, `.${meta.infoHashHex}.parts`)), false, 'part file gone');
  assert.throws(() => session.setFiles([]), { code: 'LODESTONE_ERR_USAGE' });
});
