/**
 * Network faults, end to end on loopback with a real aria2 seeder:
 *  - every tracker is down (HTTP and UDP announce URLs on closed ports), the
 *    peer comes from `--peer` or a magnet's `x.pe`: the download completes,
 *    the JSON events report the tracker errors in words, and retries back off;
 *    a UDP tracker that never answers is given up after a deadline, so the
 *    next tracker of its tier gets its turn (with a real opentracker);
 *  - the network vanishes mid-download (the only seeder is stopped): the
 *    client keeps running, and when a seeder is back on the same address and
 *    port it reconnects and finishes, byte-identical.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Announcer } from '../../src/tracker/announcer.js';
import { createTrackerClient } from '../../src/tracker/create-tracker.js';
import type { AnnounceResponse } from '../../src/tracker/types.js';
import { generatePeerId } from '../../src/wire/index.js';
import { delay } from '../helpers/faults.js';
import { type CliEvent, type CliRun, runCli } from '../helpers/lodestone-cli.js';
import { startOpentracker } from '../helpers/opentracker.js';
import {
  createTorrentWithMktorrent,
  freePort,
  makeRandomContent,
  nextLoopbackAddress,
  type RealClientHandle,
  startAria2Seeder,
  type WrittenContent,
} from '../helpers/real-clients/index.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const MiB = 1024 * 1024;
/** The announcer's first retry delay after a failed round (AnnouncerOptions.retryBaseMs default). */
const TRACKER_RETRY_BASE_MS = 15_000;

interface Fixture {
  root: string;
  dataDir: string;
  torrent: string;
  infoHashHex: string;
  content: WrittenContent;
  deadHttp: string;
  deadUdp: string;
}

let fixture: Fixture | undefined;

before(async () => {
  if (!toolAvailable('aria2c') || !toolAvailable('mktorrent')) return;
  const root = await mkdtemp(join(tmpdir(), 'lodestone-net-'));
  const dataDir = join(root, 'data');
  const content = await makeRandomContent(dataDir, { files: [{ path: 'net.bin', size: 10 * MiB + 321 }] });
  // Ports that were free a moment ago: nothing listens there, so TCP is refused and UDP is silent.
  const deadHttp = `http://127.0.0.1:${await freePort('127.0.0.1')}/announce`;
  const deadUdp = `udp://127.0.0.1:${await freePort('127.0.0.1')}/announce`;
  const torrent = await createTorrentWithMktorrent({
    path: join(dataDir, 'net.bin'),
    announce: [deadHttp, deadUdp], // two tiers
    out: join(root, 'net.torrent'),
  });
  const infoHashHex = parseTorrent(await readFile(torrent)).infoHashHex;
  fixture = { root, dataDir, torrent, infoHashHex, content, deadHttp, deadUdp };
});

after(async () => {
  if (fixture) await rm(fixture.root, { recursive: true, force: true });
});

function ready(t: TestContext): Fixture | undefined {
  if (!requireTool(t, 'aria2c') || !requireTool(t, 'mktorrent')) return undefined;
  assert.ok(fixture, 'fixture set up');
  return fixture;
}

async function startSeeder(
  t: TestContext,
  f: Fixture,
  placement: { address: string; port?: number },
  uploadLimit = '4M',
): Promise<RealClientHandle> {
  const seeder = await startAria2Seeder({
    torrentPath: f.torrent,
    dataDir: f.dataDir,
    ...placement,
    extraArgs: [`--max-upload-limit=${uploadLimit}`],
  });
  t.after(() => seeder.stop());
  await seeder.waitSeeding(60_000);
  return seeder;
}

function download(t: TestContext, source: string, outDir: string, extra: string[]): CliRun {
  const run = runCli([
    'download',
    source,
    '-o',
    outDir,
    '--json',
    '--port',
    '0',
    '--bind',
    nextLoopbackAddress(),
    ...extra,
  ]);
  t.after(() => run.stop());
  return run;
}

async function assertSameFiles(content: WrittenContent, outDir: string): Promise<void> {
  for (const file of content.files) {
    const expected = await readFile(file.absolutePath);
    const actual = await readFile(join(outDir, file.path));
    assert.ok(actual.equals(expected), `${file.path} is byte-identical`);
  }
}

function trackerErrors(events: CliEvent[], url: string): CliEvent[] {
  return events.filter((event) => event.type === 'tracker-error' && event.url === url);
}

describe('network faults', { timeout: 240_000, concurrency: true }, () => {
  test('all trackers down, peer from --peer: completes; errors reported in words; retries back off', async (t) => {
    const f = ready(t);
    if (!f) return;
    const seeder = await startSeeder(t, f, { address: nextLoopbackAddress() });
    const out = await mkdtemp(join(f.root, 'out-peer-'));
    // Seeding on for a while after completion keeps the announcer running: the test window
    // (~20 s) spans the first retry of the failed tier.
    const run = download(t, f.torrent, out, [
      '--peer',
      `${seeder.address}:${seeder.port}`,
      '--seed-time',
      '18s',
    ]);
    const result = await run.exited;
    assert.equal(result.code, 0, `completes despite dead trackers; stderr: ${result.stderr}`);
    await assertSameFiles(f.content, out);
    assert.ok(!run.events.some((event) => event.type === 'tracker-response'), 'no tracker ever answered');

    const httpErrors = trackerErrors(run.events, f.deadHttp);
    assert.ok(httpErrors.length >= 1, 'the dead HTTP tracker is reported');
    for (const error of httpErrors) {
      assert.match(String(error.message), /cannot reach tracker .*ECONNREFUSED/, 'a message saying why');
    }
    // Back-off: 15 s, then 30 s, … so a ~20 s window sees at most two attempts, 15 s apart.
    assert.ok(httpErrors.length <= 2, `at most two attempts in the window, got ${httpErrors.length}`);
    const times = httpErrors.map((error) => Date.parse(String(error.time)));
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap >= TRACKER_RETRY_BASE_MS - 1000, `retry ${i} came after ${gap} ms`);
    }
    // The dead UDP tracker stays silent within this window (its deadline is 30 s); the
    // library-level test below shows that deadline with a short setting.
    const udpErrors = trackerErrors(run.events, f.deadUdp);
    assert.ok(udpErrors.length <= 1, `UDP attempts: ${udpErrors.length}`);
  });

  test('all trackers down, peer from the magnet x.pe: completes; errors reported', async (t) => {
    const f = ready(t);
    if (!f) return;
    const seeder = await startSeeder(t, f, { address: nextLoopbackAddress() });
    const out = await mkdtemp(join(f.root, 'out-magnet-'));
    const magnet =
      `magnet:?xt=urn:btih:${f.infoHashHex}&dn=net.bin&tr=${encodeURIComponent(f.deadHttp)}` +
      `&tr=${encodeURIComponent(f.deadUdp)}&x.pe=${seeder.address}:${seeder.port}`;
    const run = download(t, magnet, out, []);
    const result = await run.exited;
    assert.equal(result.code, 0, `completes from the x.pe peer; stderr: ${result.stderr}`);
    await assertSameFiles(f.content, out);
    const httpErrors = trackerErrors(run.events, f.deadHttp);
    assert.ok(httpErrors.length >= 1, 'the dead HTTP tracker is reported');
    assert.match(String(httpErrors[0]!.message), /cannot reach tracker .*ECONNREFUSED/);
  });

  test('a UDP tracker that never answers is given up after the deadline; its tier moves on', async (t) => {
    if (!requireTool(t, 'opentracker')) return;
    const f = ready(t);
    if (!f) return;
    const tracker = await startOpentracker({ infoHashes: [f.infoHashHex] });
    t.after(() => tracker.stop());
    const announcer = new Announcer({
      // One tier: the silent UDP tracker first (random() = 0.999 keeps the order), then a live one.
      tiers: [[f.deadUdp, tracker.httpUrl]],
      infoHash: Buffer.from(f.infoHashHex, 'hex'),
      peerId: generatePeerId(),
      port: 6881,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      createClient: (url) => createTrackerClient(url),
      random: () => 0.999,
      announceTimeoutMs: 1500,
      retryBaseMs: 1000,
    });
    t.after(() => announcer.stop());
    const errors: { url: string; message: string; at: number }[] = [];
    const started = Date.now();
    announcer.on('announce-error', ({ url, error }) =>
      errors.push({ url, message: error.message, at: Date.now() }),
    );
    const answered = new Promise<{ url: string; response: AnnounceResponse }>((resolve) =>
      announcer.once('response', resolve),
    );
    announcer.start();
    const { url } = await answered;
    assert.equal(url, tracker.httpUrl, 'the live tracker of the same tier answered');
    assert.equal(errors.length, 1, 'one error before that');
    assert.equal(errors[0]!.url, f.deadUdp);
    assert.match(errors[0]!.message, /tracker did not answer within 1\.5 s/);
    assert.ok(errors[0]!.at - started >= 1400, 'not before the deadline');
    await delay(0);
  });

  test('the network vanishes mid-download: the client waits, and finishes when a seeder is back', async (t) => {
    const f = ready(t);
    if (!f) return;
    // 1 MiB/s: the 10 MiB take ~10 s, so the seeder is surely gone before the download ends,
    // even on a loaded machine where the first progress event comes late.
    const first = await startSeeder(t, f, { address: nextLoopbackAddress() }, '1M');
    const seederKey = `${first.address}:${first.port}`;
    const out = await mkdtemp(join(f.root, 'out-vanish-'));
    const run = download(t, f.torrent, out, ['--no-trackers', '--peer', seederKey]);
    await run.waitFor((event) => event.type === 'progress' && Number(event.percent) >= 5, 60_000);
    await first.stop();
    const goneAt = Date.now();
    await run.waitFor((event) => event.type === 'peer-disconnected' && event.address === seederKey, 10_000);
    // With no peer at all for a while, the client must neither exit nor give up on the address.
    await delay(6000);
    assert.equal(run.child.exitCode, null, 'still running with no peer');
    assert.equal(run.child.signalCode, null);
    const percentWhileDown = Number(
      run.events.filter((event) => event.type === 'progress').at(-1)?.percent ?? 0,
    );
    assert.ok(percentWhileDown < 100, `incomplete while the network is down (${percentWhileDown} %)`);

    const connectionsBefore = run.events.filter((event) => event.type === 'peer-connected').length;
    await startSeeder(t, f, { address: first.address, port: first.port });
    const backAt = Date.now();
    const result = await run.exited;
    assert.equal(result.code, 0, `finishes once the seeder is back; stderr: ${result.stderr}`);
    await assertSameFiles(f.content, out);
    const reconnections = run.events
      .filter((event) => event.type === 'peer-connected')
      .slice(connectionsBefore);
    assert.ok(reconnections.length >= 1, 'dialled the seeder again');
    t.diagnostic(
      `outage ${Math.round((backAt - goneAt) / 1000)} s; finished ${Math.round((Date.now() - backAt) / 1000)} s after the seeder was back`,
    );
  });
});
