/**
 * Smoke test of the WebTorrent helpers (test/helpers/webtorrent): a WebTorrent
 * seeder and WebTorrent leechers, each its own process on its own loopback
 * address, exchange a ~4 MiB random torrent through the real opentracker, and
 * a leecher given only a magnet link and the seeder's address fetches the
 * metadata (BEP 9) and the data from it. Files are compared byte for byte.
 * Needs mktorrent, opentracker and the `webtorrent` dev dependency; with
 * CI=true a missing one fails the test, locally it is skipped.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { magnetUri, waitTrackerListsPeer } from '../helpers/real-clients/index.js';
import { isCI, requireTool } from '../helpers/tools.js';
import { type TrackedTorrent, trackedTorrent } from '../helpers/tracked-torrent.js';
import {
  type DriverEvent,
  startWebTorrentLeecher,
  startWebTorrentSeeder,
  type WebTorrentHandle,
  webtorrentAvailable,
} from '../helpers/webtorrent/index.js';
import { isLoopbackEndpoint, openSockets } from '../helpers/webtorrent/sockets.js';

const MiB = 1 << 20;
const FILE_NAME = 'payload.bin';
const TEST_TIMEOUT_MS = 120_000;

function requireWebTorrent(t: TestContext): boolean {
  if (webtorrentAvailable()) return true;
  if (isCI()) throw new Error('the webtorrent dev dependency is required in CI (npm ci)');
  t.skip('webtorrent is not installed (npm ci)');
  return false;
}

type Fixture = TrackedTorrent;

/** A temp folder, a running opentracker and a ~4 MiB single-file torrent (odd size) it whitelists. */
function makeFixture(t: TestContext): Promise<Fixture> {
  return trackedTorrent(t, { prefix: 'lodestone-webtorrent-', fileName: FILE_NAME, size: 4 * MiB + 4321 });
}

async function startSeeder(t: TestContext, fixture: Fixture): Promise<WebTorrentHandle> {
  const seeder = await startWebTorrentSeeder({ torrentPath: fixture.torrentPath, dataDir: fixture.dataDir });
  t.after(() => seeder.stop());
  await seeder.waitSeeding(60_000);
  await waitTrackerListsPeer(
    fixture.trackerUrl,
    fixture.facts.infoHash,
    { address: seeder.address, port: seeder.port },
    30_000,
  );
  t.diagnostic(`seeder: ${timeline(await seeder.events())}`);
  return seeder;
}

/** 'ready 180 ms, metadata 190 ms, done 260 ms' from the driver's own clock. */
function timeline(events: DriverEvent[]): string {
  const firsts = new Map<string, number>();
  for (const event of events) if (!firsts.has(event.event)) firsts.set(event.event, event.ms);
  return ['ready', 'metadata', 'announced', 'wire', 'done']
    .filter((name) => firsts.has(name))
    .map((name) => `${name} ${firsts.get(name)} ms`)
    .join(', ');
}

async function assertSameFile(original: string, copy: string): Promise<void> {
  const [expected, actual] = await Promise.all([readFile(original), readFile(copy)]);
  assert.equal(actual.length, expected.length, 'file size');
  assert.ok(actual.equals(expected), 'the downloaded file differs from the original');
}

/** No socket of the peer's process is bound or connected off loopback (no DHT, UPnP, LSD…). */
async function assertOnlyLoopback(peer: WebTorrentHandle): Promise<void> {
  const sockets = await openSockets(peer.pid);
  assert.ok(sockets.length > 0, `no sockets found for pid ${peer.pid}`);
  const outside = sockets.filter(
    (socket) => !isLoopbackEndpoint(socket.local) || !isLoopbackEndpoint(socket.remote, true),
  );
  assert.deepEqual(outside, [], `${peer.name} has sockets off loopback`);
}

function pidIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

describe('WebTorrent as a real peer', () => {
  test('a leecher downloads from a seeder it learns from the tracker', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    for (const tool of ['mktorrent', 'opentracker']) if (!requireTool(t, tool)) return;
    if (!requireWebTorrent(t)) return;
    const fixture = await makeFixture(t);
    const seeder = await startSeeder(t, fixture);

    const outDir = join(fixture.work, 'out');
    const started = performance.now();
    const leecher = await startWebTorrentLeecher({ torrentPath: fixture.torrentPath, outDir });
    t.after(() => leecher.stop());
    await leecher.waitComplete(60_000);
    t.diagnostic(
      `leecher: complete ${(performance.now() - started).toFixed(0)} ms after start; ${timeline(await leecher.events())}`,
    );

    assert.deepEqual(await leecher.progress(), {
      completedBytes: fixture.facts.totalLength,
      totalBytes: fixture.facts.totalLength,
    });
    // The leecher dialled the seeder's own loopback address, taken from the tracker.
    const wires = await leecher.wires();
    assert.ok(
      wires.some((wire) => wire.addr === `${seeder.address}:${seeder.port}` && wire.type === 'tcpOutgoing'),
      `expected an outgoing connection to ${seeder.address}:${seeder.port}, got ${JSON.stringify(wires)}`,
    );
    // …and from its own address, which the seeder sees (the driver pins the source address).
    const seederWires = await seeder.wires();
    assert.ok(
      seederWires.some((wire) => wire.addr.startsWith(`${leecher.address}:`) && wire.type === 'tcpIncoming'),
      `expected the seeder to see ${leecher.address}, got ${JSON.stringify(seederWires)}`,
    );
    await assertSameFile(join(fixture.dataDir, FILE_NAME), join(outDir, FILE_NAME));
    for (const peer of [seeder, leecher]) await assertOnlyLoopback(peer);

    await leecher.stop();
    assert.ok(pidIsGone(leecher.pid), `pid ${leecher.pid} is still alive`);
    await leecher.stop(); // idempotent
  });

  test('a leecher with only a magnet and the seeder address gets metadata and data', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    for (const tool of ['mktorrent', 'opentracker']) if (!requireTool(t, tool)) return;
    if (!requireWebTorrent(t)) return;
    const fixture = await makeFixture(t);
    const seeder = await startSeeder(t, fixture);

    const outDir = join(fixture.work, 'out');
    const started = performance.now();
    const leecher = await startWebTorrentLeecher({
      // Without trackers: the explicit peer is its only source.
      magnet: magnetUri({ ...fixture.facts, trackers: [] }),
      outDir,
      peers: [`${seeder.address}:${seeder.port}`],
    });
    t.after(() => leecher.stop());
    await leecher.waitComplete(60_000);
    const events = await leecher.events();
    t.diagnostic(
      `magnet leecher: complete ${(performance.now() - started).toFixed(0)} ms after start; ${timeline(events)}`,
    );
    assert.ok(
      events.some((event) => event.event === 'metadata' && event.infoHash === fixture.facts.infoHashHex),
      'metadata for the right info-hash',
    );
    assert.ok(!events.some((event) => event.event === 'announced'), 'no tracker was contacted');
    await assertSameFile(join(fixture.dataDir, FILE_NAME), join(outDir, FILE_NAME));
  });

  test('a seeder with incomplete data fails instead of downloading', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    for (const tool of ['mktorrent', 'opentracker']) if (!requireTool(t, tool)) return;
    if (!requireWebTorrent(t)) return;
    const fixture = await makeFixture(t);
    // It may already have exited by the time start returns: either call may fail.
    await assert.rejects(async () => {
      const seeder = await startWebTorrentSeeder({
        torrentPath: fixture.torrentPath,
        dataDir: join(fixture.work, 'empty'),
      });
      t.after(() => seeder.stop());
      await seeder.waitSeeding(30_000);
    }, /seed data incomplete: 0 of \d+ bytes verified/);
  });
});
