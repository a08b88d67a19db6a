/**
 * Disk faults, end to end with the CLI against a real aria2 seeder:
 *  - the output folder fills up mid-download (a 4 MiB tmpfs for 10 MiB): a
 *    one-line "disk full" error, exit code 4, nothing presented as complete;
 *    after making room, the same command resumes and finishes byte-identical;
 *  - the output folder is read-only (a read-only tmpfs: root ignores chmod):
 *    a one-line error and exit code 4, without waiting for a peer to send data.
 * Mounting needs root: skipped locally without it, required with CI=true.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import {
  hasStackTrace,
  mountTmpfs,
  mountUnavailableReason,
  snapshotTree,
  startTripwire,
  stderrLines,
  type TmpfsMount,
} from '../helpers/faults.js';
import { type CliRun, runCli } from '../helpers/lodestone-cli.js';
import {
  createTorrentWithMktorrent,
  makeRandomContent,
  nextLoopbackAddress,
  type RealClientHandle,
  startAria2Seeder,
  type WrittenContent,
} from '../helpers/real-clients/index.js';
import { isCI, requireTool, toolAvailable } from '../helpers/tools.js';

const MiB = 1024 * 1024;
const EXIT_IO = 4; // src/cli/exit-codes.ts ExitCode.io

interface Fixture {
  root: string;
  torrent: string;
  content: WrittenContent;
  seeder: RealClientHandle;
}

let fixture: Fixture | undefined;

before(async () => {
  if (!toolAvailable('aria2c') || !toolAvailable('mktorrent')) return;
  const root = await mkdtemp(join(tmpdir(), 'lodestone-disk-'));
  const dataDir = join(root, 'data');
  const content = await makeRandomContent(dataDir, { files: [{ path: 'ten.bin', size: 10 * MiB + 5 }] });
  // The tracker is never reached (closed port); peers are given with --peer.
  const torrent = await createTorrentWithMktorrent({
    path: join(dataDir, 'ten.bin'),
    announce: ['http://127.0.0.1:9/announce'],
    out: join(root, 'ten.torrent'),
  });
  const seeder = await startAria2Seeder({
    torrentPath: torrent,
    dataDir,
    address: nextLoopbackAddress(),
    extraArgs: ['--max-upload-limit=4M'],
  });
  fixture = { root, torrent, content, seeder };
  await seeder.waitSeeding(60_000);
});

after(async () => {
  await fixture?.seeder.stop();
  if (fixture) await rm(fixture.root, { recursive: true, force: true });
});

/** The fixture, or undefined when the test was skipped (missing tool, no root). */
function ready(t: TestContext): Fixture | undefined {
  if (!requireTool(t, 'aria2c') || !requireTool(t, 'mktorrent')) return undefined;
  const reason = mountUnavailableReason();
  if (reason !== undefined) {
    if (isCI()) throw new Error(`CI runs as root and must mount tmpfs: ${reason}`);
    t.skip(reason);
    return undefined;
  }
  assert.ok(fixture, 'fixture set up');
  return fixture;
}

/** Mounts a tmpfs on a fresh folder; unmounted in an after-hook even when the test fails. */
async function mountOrSkip(
  t: TestContext,
  f: Fixture,
  options: { sizeBytes: number; readOnly?: boolean },
): Promise<TmpfsMount | undefined> {
  const dir = await mkdtemp(join(f.root, 'mnt-'));
  try {
    const mount = await mountTmpfs(dir, options);
    t.after(() => mount.unmount());
    return mount;
  } catch (error) {
    const message = `cannot mount tmpfs: ${(error as Error).message.trim()}`;
    if (isCI()) throw new Error(message);
    t.skip(message);
    return undefined;
  }
}

function download(t: TestContext, f: Fixture, outDir: string, peer: string): CliRun {
  const run = runCli([
    'download',
    f.torrent,
    '-o',
    outDir,
    '--json',
    '--port',
    '0',
    '--bind',
    nextLoopbackAddress(),
    '--no-trackers',
    '--peer',
    peer,
  ]);
  t.after(() => run.stop());
  return run;
}

/** A one-line `lodestone: error: …` matching `pattern`, without a stack trace or "internal error". */
function assertCleanError(stderr: string, pattern: RegExp): void {
  const lines = stderrLines(stderr);
  assert.equal(lines.length, 1, `exactly one line on stderr, got: ${stderr}`);
  assert.match(lines[0]!, /^lodestone: error: /, 'a Lodestone error, not an internal one');
  assert.match(lines[0]!, pattern);
  assert.ok(!hasStackTrace(stderr), `no stack trace: ${stderr}`);
}

async function assertSameFiles(content: WrittenContent, outDir: string): Promise<void> {
  for (const file of content.files) {
    const expected = await readFile(file.absolutePath);
    const actual = await readFile(join(outDir, file.path));
    assert.ok(actual.equals(expected), `${file.path} is byte-identical`);
  }
}

describe('disk faults', { timeout: 180_000 }, () => {
  test('disk full mid-download: one-line error, exit 4; after making room the restart completes', async (t) => {
    const f = ready(t);
    if (!f) return;
    const mount = await mountOrSkip(t, f, { sizeBytes: 4 * MiB });
    if (!mount) return;
    const seeder = `${f.seeder.address}:${f.seeder.port}`;

    const first = download(t, f, mount.dir, seeder);
    const failed = await first.exited;
    assert.equal(failed.code, EXIT_IO, `exit code 4 (I/O); stderr: ${failed.stderr}`);
    assertCleanError(failed.stderr, /disk full|no space left/i);
    assert.ok(!first.events.some((event) => event.type === 'done'), 'never reported done');
    const verifiedBefore = first.events.filter((event) => event.type === 'piece-verified').length;

    await mount.remount({ sizeBytes: 32 * MiB });
    const second = download(t, f, mount.dir, seeder);
    const finished = await second.exited;
    assert.equal(finished.code, 0, `the restart completes; stderr: ${finished.stderr}`);
    assert.equal(finished.stderr, '', 'nothing on stderr');
    await assertSameFiles(f.content, mount.dir);
    const check = second.events.filter((event) => event.type === 'checking').at(-1);
    assert.ok(
      Number(check?.valid) >= verifiedBefore,
      `the restart kept the ${verifiedBefore} pieces written before the disk filled (found ${check?.valid})`,
    );
  });

  test('read-only output folder: one-line error, exit 4, without waiting for data', async (t) => {
    const f = ready(t);
    if (!f) return;
    const mount = await mountOrSkip(t, f, { sizeBytes: MiB, readOnly: true });
    if (!mount) return;
    // A peer that accepts and hangs up: no data will ever come, so the error must not wait for a write.
    const tripwire = await startTripwire(nextLoopbackAddress());
    t.after(() => tripwire.close());
    for (const outDir of [mount.dir, join(mount.dir, 'not', 'yet', 'there')]) {
      const before = await snapshotTree(mount.dir);
      const run = download(t, f, outDir, `${tripwire.host}:${tripwire.port}`);
      const result = await run.exited;
      assert.equal(result.code, EXIT_IO, `exit code 4 for ${outDir}; stderr: ${result.stderr}`);
      assertCleanError(result.stderr, /read-only file system/);
      assert.deepEqual(await snapshotTree(mount.dir), before, 'nothing created');
    }
  });
});
