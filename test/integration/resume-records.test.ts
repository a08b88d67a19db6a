/**
 * Fast resume with the CLI bundle: `lodestone download` keeps a record per torrent under
 * <state dir>/resume/<infohash>.resume. The seeder is aria2 (rate-limited, so a kill lands
 * mid-download) behind a counting relay that measures the piece bytes each run received.
 *  (a) a second `download` of a complete folder hashes no piece and ends at once;
 *  (b) a file changed behind our back (same size, new mtime, corrupted) is the only one
 *      re-checked; its bad piece is downloaded again, byte-exact;
 *  (c) `kill -9` during downloads: each record left behind claims only pieces whose bytes are
 *      right on disk, and a restart downloads none of them again;
 *  (d) a corrupted record: a warning and a full check;
 *  (e) a forged record claiming pieces, with mtimes that do not match: no wrong file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { Bitfield } from '../../src/bitfield.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import type { TorrentMetadata } from '../../src/metainfo/types.js';
import { decodeResumeRecord, encodeResumeRecord } from '../../src/storage/resume-record.js';
import { type CountingRelay, delay, seededRandom, startCountingRelay } from '../helpers/faults.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';
import {
  createTorrentWithMktorrent,
  makeRandomContent,
  nextLoopbackAddress,
  type RealClientHandle,
  startAria2Seeder,
  type WrittenContent,
} from '../helpers/real-clients/index.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const MiB = 1024 * 1024;
const KILLS = Math.max(1, Number(process.env.RESUME_KILLS ?? 5));
const SEED = Number(process.env.RESUME_KILL_SEED ?? 0x5e5e1d);
const UPLOAD_LIMIT_BYTES_PER_S = 2 * MiB;

interface Fixture {
  root: string;
  torrent: string;
  meta: TorrentMetadata;
  content: WrittenContent;
  seeder: RealClientHandle;
  relay: CountingRelay;
}

let fixture: Fixture | undefined;

before(async () => {
  if (!toolAvailable('aria2c') || !toolAvailable('mktorrent')) return;
  const root = await mkdtemp(join(tmpdir(), 'lodestone-resume-'));
  const dataDir = join(root, 'data');
  const content = await makeRandomContent(join(dataDir, 'set'), {
    files: [
      { path: 'a.bin', size: 5 * MiB + 3 },
      { path: 'sub/b.bin', size: 3 * MiB + 77_777 },
      { path: 'c.bin', size: MiB + 1000 },
    ],
  });
  const torrent = await createTorrentWithMktorrent({
    path: join(dataDir, 'set'),
    announce: ['http://127.0.0.1:9/announce'],
    out: join(root, 'set.torrent'),
  });
  const meta = parseTorrent(await readFile(torrent));
  const seeder = await startAria2Seeder({
    torrentPath: torrent,
    dataDir,
    address: nextLoopbackAddress(),
    extraArgs: [`--max-upload-limit=${UPLOAD_LIMIT_BYTES_PER_S / MiB}M`],
  });
  try {
    await seeder.waitSeeding(60_000);
    const relay = await startCountingRelay({
      host: nextLoopbackAddress(),
      target: { host: seeder.address, port: seeder.port },
    });
    fixture = { root, torrent, meta, content, seeder, relay };
  } catch (error) {
    await seeder.stop();
    throw error;
  }
});

after(async () => {
  await fixture?.relay.close();
  await fixture?.seeder.stop();
  if (fixture) await rm(fixture.root, { recursive: true, force: true });
});

async function differingFiles(f: Fixture, outDir: string): Promise<string[]> {
  const bad: string[] = [];
  for (const file of f.content.files) {
    const expected = await readFile(file.absolutePath);
    const actual = await readFile(join(outDir, 'set', file.path)).catch(() => undefined);
    if (!actual?.equals(expected)) bad.push(file.path);
  }
  return bad;
}

/** Pieces whose bytes on disk in `outDir` do not match their hash. */
async function wrongPieces(f: Fixture, outDir: string, pieces: Bitfield): Promise<number[]> {
  const data = Buffer.concat(
    await Promise.all(
      f.meta.files.map(async (file) => {
        const bytes = await readFile(join(outDir, ...file.path)).catch(() => Buffer.alloc(0));
        const out = Buffer.alloc(file.length);
        bytes.copy(out, 0, 0, Math.min(bytes.length, file.length));
        return out;
      }),
    ),
  );
  const wrong: number[] = [];
  for (let index = 0; index < f.meta.pieceCount; index++) {
    if (!pieces.has(index)) continue;
    const piece = data.subarray(index * f.meta.pieceLength, (index + 1) * f.meta.pieceLength);
    const digest = createHash('sha1').update(piece).digest();
    if (!digest.equals(f.meta.pieceHashes.subarray(index * 20, index * 20 + 20))) wrong.push(index);
  }
  return wrong;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  events: CliEvent[];
  received: number;
}

/** One `download` run with its own state dir; SIGKILLed after `killAfterMs` unless it ends first. */
async function download(
  t: TestContext,
  f: Fixture,
  outDir: string,
  stateDir: string,
  options: { killAfterMs?: number; extra?: string[] } = {},
): Promise<Outcome> {
  const before = f.relay.pieceBytes;
  const run = runCli(
    [
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
      '--no-utp',
      // Plaintext, so the relay can count piece bytes.
      '--encryption',
      'disable',
      '--peer',
      `${f.relay.host}:${f.relay.port}`,
      ...(options.extra ?? []),
    ],
    { env: { XDG_STATE_HOME: stateDir } },
  );
  t.after(() => run.stop());
  const timer =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => run.child.kill('SIGKILL'), options.killAfterMs);
  const result = await run.exited;
  clearTimeout(timer);
  for (const deadline = Date.now() + 5000; f.relay.open > 0 && Date.now() < deadline; ) await delay(20);
  return { ...result, events: run.events, received: f.relay.pieceBytes - before };
}

const eventOf = (outcome: Outcome, type: string) => outcome.events.find((event) => event.type === type);
const recordPath = (f: Fixture, stateDir: string) =>
  join(stateDir, 'lodestone', 'resume', `${f.meta.infoHashHex}.resume`);

async function freshDirs(f: Fixture, label: string) {
  const outDir = await mkdtemp(join(f.root, `out-${label}-`));
  const stateDir = await mkdtemp(join(f.root, `state-${label}-`));
  return { outDir, stateDir };
}

describe('resume records with lodestone download', { timeout: 300_000 }, () => {
  test('(a) a second download of a complete folder hashes nothing; (b) a changed file is the only one re-checked', async (t) => {
    if (!requireTool(t, 'aria2c') || !requireTool(t, 'mktorrent')) return;
    const f = fixture!;
    const { outDir, stateDir } = await freshDirs(f, 'ab');
    const first = await download(t, f, outDir, stateDir);
    assert.equal(first.code, 0, first.stderr);
    assert.ok((await stat(recordPath(f, stateDir))).size > 0, 'the record is written at stop');

    const second = await download(t, f, outDir, stateDir);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(eventOf(second, 'ready'), { ...eventOf(second, 'ready'), piecesHashed: 0 });
    assert.equal(eventOf(second, 'ready')?.verifiedPieces, f.meta.pieceCount);
    assert.equal(eventOf(second, 'resume')?.record, 'used');
    assert.equal(second.received, 0, 'nothing downloaded');

    // (b) c.bin: same size, one byte flipped, a new mtime.
    const cPath = join(outDir, 'set', 'c.bin');
    const c = await readFile(cPath);
    c.writeUInt8(c[1000]! ^ 0xff, 1000);
    await writeFile(cPath, c);
    await utimes(cPath, new Date(), new Date(Date.now() + 10_000));
    const cFile = f.meta.files.findIndex((file) => file.path.join('/') === 'set/c.bin');
    const cEntry = f.meta.files[cFile]!;
    const cStart = Math.floor(cEntry.offset / f.meta.pieceLength);
    const cPieces = Math.floor((cEntry.offset + cEntry.length - 1) / f.meta.pieceLength) - cStart + 1;
    const third = await download(t, f, outDir, stateDir);
    assert.equal(third.code, 0, third.stderr);
    const resume = eventOf(third, 'resume')!;
    assert.equal(resume.filesChanged, 1);
    assert.equal(eventOf(third, 'ready')?.piecesHashed, cPieces, 'only the pieces of c.bin hashed');
    assert.equal(eventOf(third, 'ready')?.verifiedPieces, f.meta.pieceCount - 1, 'the corrupted piece found');
    assert.deepEqual(
      third.events.filter((event) => event.type === 'piece-verified').map((event) => event.index),
      [Math.floor((cEntry.offset + 1000) / f.meta.pieceLength)],
    );
    assert.deepEqual(await differingFiles(f, outDir), []);
    // --no-resume: no record read, every piece hashed.
    const fourth = await download(t, f, outDir, stateDir, { extra: ['--no-resume'] });
    assert.equal(fourth.code, 0, fourth.stderr);
    assert.equal(eventOf(fourth, 'resume'), undefined);
    assert.equal(eventOf(fourth, 'ready')?.piecesHashed, f.meta.pieceCount);
    t.diagnostic(
      `(a) re-run: 0 of ${f.meta.pieceCount} pieces hashed; (b) ${cPieces} pieces hashed, 1 re-downloaded`,
    );
  });

  test('(d) a corrupted record: a warning and a full check; (e) a forged record with stale mtimes: no wrong file', async (t) => {
    if (!requireTool(t, 'aria2c') || !requireTool(t, 'mktorrent')) return;
    const f = fixture!;
    const { outDir, stateDir } = await freshDirs(f, 'de');
    const first = await download(t, f, outDir, stateDir);
    assert.equal(first.code, 0, first.stderr);
    const good = await readFile(recordPath(f, stateDir));
    await writeFile(recordPath(f, stateDir), good.subarray(0, good.length - 9));
    const second = await download(t, f, outDir, stateDir);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(eventOf(second, 'resume')?.record, 'rejected');
    assert.ok(eventOf(second, 'resume-warning'), 'a warning event');
    assert.match(second.stderr, /warning: resume record .*checked every piece/);
    assert.equal(eventOf(second, 'ready')?.piecesHashed, f.meta.pieceCount);

    // (e) Zero a.bin's bytes, then forge a record that claims every piece with the old mtimes.
    const record = decodeResumeRecord(await readFile(recordPath(f, stateDir)));
    const aPath = join(outDir, 'set', 'a.bin');
    await writeFile(aPath, Buffer.alloc((await stat(aPath)).size));
    await utimes(aPath, new Date(), new Date(Date.now() + 10_000));
    await writeFile(
      recordPath(f, stateDir),
      encodeResumeRecord({ ...record, have: Bitfield.full(f.meta.pieceCount) }),
    );
    const third = await download(t, f, outDir, stateDir);
    assert.equal(third.code, 0, third.stderr);
    assert.deepEqual(
      await differingFiles(f, outDir),
      [],
      'the forged claim was re-checked, a.bin downloaded again',
    );
    assert.ok(
      third.received >= 5 * MiB,
      `a.bin came from the peer (${third.received} bytes, ${JSON.stringify(eventOf(third, 'resume'))})`,
    );
  });

  test(`(c) ${KILLS} kill -9 during downloads: records claim only right pieces, none downloaded again`, async (t) => {
    if (!requireTool(t, 'aria2c') || !requireTool(t, 'mktorrent')) return;
    const f = fixture!;
    const random = seededRandom(SEED);
    const expectedMs = (f.meta.totalLength / UPLOAD_LIMIT_BYTES_PER_S) * 1000 + 1000;
    const losses: string[] = [];
    let kills = 0;
    let recordsSeen = 0;
    let runs = 0;
    for (let scenario = 1; kills < KILLS; scenario++) {
      const { outDir, stateDir } = await freshDirs(f, `c${scenario}`);
      const receivedAtStart = f.relay.pieceBytes;
      let scenarioKills = 0;
      /** What the record claims before each run: nothing at first. */
      let claimed = new Bitfield(f.meta.pieceCount);
      for (;;) {
        assert.ok(++runs < 40, 'finishes within 40 runs');
        const killAfterMs = kills < KILLS ? 1200 + random() * (expectedMs - 1200) : undefined;
        const outcome = await download(t, f, outDir, stateDir, {
          ...(killAfterMs !== undefined ? { killAfterMs } : {}),
          extra: ['--resume-interval', '300ms'],
        });
        // No piece the record claimed is downloaded again, and the run starts from the record.
        const again = outcome.events
          .filter((event) => event.type === 'piece-verified')
          .map((event) => Number(event.index))
          .filter((index) => claimed.has(index));
        assert.deepEqual(again, [], `run ${runs}: no piece of the record downloaded again`);
        const ready = eventOf(outcome, 'ready');
        if (ready)
          assert.ok(Number(ready.verifiedPieces) >= claimed.count, 'the restart starts from the record');
        if (scenarioKills > 0) {
          const resume = eventOf(outcome, 'resume');
          losses.push(
            `  restart: record ${claimed.count}/${f.meta.pieceCount} pieces, ${String(resume?.filesChanged ?? '?')} files changed, ` +
              `${String(ready?.piecesHashed ?? '?')} pieces hashed`,
          );
        }
        if (outcome.signal !== 'SIGKILL') {
          assert.equal(outcome.code, 0, outcome.stderr);
          assert.deepEqual(await differingFiles(f, outDir), [], 'byte-exact at the end');
          break;
        }
        kills++;
        scenarioKills++;
        const data = await readFile(recordPath(f, stateDir)).catch(() => undefined);
        claimed = data ? decodeResumeRecord(data).have : new Bitfield(f.meta.pieceCount);
        if (data) recordsSeen++;
        // The guarantee: every piece the record claims is right on disk after the kill.
        assert.deepEqual(
          await wrongPieces(f, outDir, claimed),
          [],
          `kill ${kills}: the record claims only right pieces`,
        );
        const verified = outcome.events.filter((event) => event.type === 'piece-verified').length;
        const lost = Math.max(0, outcome.received - verified * f.meta.pieceLength);
        losses.push(
          `kill ${kills} at ${Math.round(killAfterMs ?? 0)} ms: ${verified} pieces verified in the run, ` +
            `record has ${claimed.count}, ${Math.round(lost / 1024)} KiB received but not in a verified piece`,
        );
      }
      const redownloaded = f.relay.pieceBytes - receivedAtStart - f.meta.totalLength;
      losses.push(
        `scenario ${scenario}: ${scenarioKills} kills, ${Math.round(redownloaded / 1024)} KiB downloaded twice in all`,
      );
    }
    for (const line of losses) t.diagnostic(line);
    assert.ok(recordsSeen > 0, 'at least one kill left a record behind');
  });
});
