/**
 * Smoke test of the real-client helpers (test/helpers/real-clients): each
 * client seeds a random torrent on its own loopback address, the real
 * opentracker hands out exactly that address, and the client answers a raw
 * BitTorrent handshake with a complete bitfield. A second group checks the
 * leecher helpers by letting each client download from an aria2 seeder.
 * Needs mktorrent, opentracker and the clients; with CI=true a missing tool
 * fails the test, locally it is skipped.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import {
  isCompleteBitfield,
  magnetUri,
  nextLoopbackAddress,
  probeHandshake,
  type RealClientHandle,
  type RealLeecherHandle,
  startAria2Leecher,
  startAria2Seeder,
  startQbittorrentLeecher,
  startQbittorrentSeeder,
  startTransmissionLeecher,
  startTransmissionSeeder,
  waitTrackerListsPeer,
} from '../helpers/real-clients/index.js';
import { requireTool } from '../helpers/tools.js';
import { type TrackedTorrent, trackedTorrent } from '../helpers/tracked-torrent.js';

const MiB = 1 << 20;
const FILE_NAME = 'payload.bin';
const TEST_TIMEOUT_MS = 180_000;

type SeederStart = (options: {
  torrentPath: string;
  dataDir: string;
  address: string;
}) => Promise<RealClientHandle>;

const SEEDERS: { name: string; tool: string; start: SeederStart }[] = [
  { name: 'aria2', tool: 'aria2c', start: startAria2Seeder },
  { name: 'transmission', tool: 'transmission-daemon', start: startTransmissionSeeder },
  { name: 'qbittorrent', tool: 'qbittorrent-nox', start: startQbittorrentSeeder },
];

type Fixture = TrackedTorrent;

/** A temp folder, a running opentracker and a ~5 MiB single-file torrent (odd size) it whitelists. */
function makeFixture(t: TestContext): Promise<Fixture> {
  return trackedTorrent(t, {
    prefix: 'lodestone-real-clients-',
    fileName: FILE_NAME,
    size: 5 * MiB + 12_345,
  });
}

function pidIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`;
}

describe('real clients as seeders', () => {
  for (const seeder of SEEDERS) {
    test(`${seeder.name} seeds on its own loopback address`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      for (const tool of ['mktorrent', 'opentracker', seeder.tool]) if (!requireTool(t, tool)) return;
      const fixture = await makeFixture(t);
      const address = nextLoopbackAddress();

      const started = performance.now();
      const handle = await seeder.start({
        torrentPath: fixture.torrentPath,
        dataDir: fixture.dataDir,
        address,
      });
      t.after(() => handle.stop());
      assert.equal(handle.address, address);
      await handle.waitSeeding(60_000);
      const seedingAfter = seconds(started);
      await waitTrackerListsPeer(
        fixture.trackerUrl,
        fixture.facts.infoHash,
        { address, port: handle.port },
        30_000,
      );
      t.diagnostic(
        `${seeder.name}: seeding after ${seedingAfter}, listed by the tracker after ${seconds(started)}`,
      );

      const progress = await handle.progress();
      assert.deepEqual(progress, {
        completedBytes: fixture.facts.totalLength,
        totalBytes: fixture.facts.totalLength,
      });

      // From a fresh address: Transmission drops a reconnect from an address it just saw.
      const answer = await probeHandshake(address, handle.port, fixture.facts.infoHash, {
        localAddress: nextLoopbackAddress(),
      });
      assert.deepEqual(answer.infoHash, fixture.facts.infoHash, 'handshake carries the same info-hash');
      assert.ok(
        answer.haveAll ||
          (answer.bitfield !== undefined && isCompleteBitfield(answer.bitfield, fixture.facts.pieceCount)),
        `expected a complete bitfield or have-all, got messages ${answer.messageIds.join(',')}`,
      );

      const stopStarted = performance.now();
      await handle.stop();
      t.diagnostic(`${seeder.name}: stopped in ${seconds(stopStarted)}`);
      assert.ok(pidIsGone(handle.pid), `pid ${handle.pid} is still alive`);
      await handle.stop(); // idempotent
    });
  }
});

type LeecherStart = (source: {
  torrentPath: string;
  magnet: string;
  outDir: string;
  address: string;
}) => Promise<RealLeecherHandle>;

const LEECHERS: { name: string; tool: string; start: LeecherStart }[] = [
  {
    name: 'aria2 (magnet)',
    tool: 'aria2c',
    start: ({ magnet, outDir, address }) => startAria2Leecher({ magnet, outDir, address }),
  },
  {
    // Transmission never dials loopback peers: it gets the data only because
    // the aria2 seeder re-announces every second and dials it.
    name: 'transmission',
    tool: 'transmission-daemon',
    start: ({ torrentPath, outDir, address }) => startTransmissionLeecher({ torrentPath, outDir, address }),
  },
  {
    name: 'qbittorrent (magnet)',
    tool: 'qbittorrent-nox',
    start: ({ magnet, outDir, address }) => startQbittorrentLeecher({ magnet, outDir, address }),
  },
];

describe('real clients as leechers (from an aria2 seeder)', () => {
  for (const leecher of LEECHERS) {
    test(`${leecher.name} downloads the torrent`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
      for (const tool of ['mktorrent', 'opentracker', 'aria2c', leecher.tool])
        if (!requireTool(t, tool)) return;
      const fixture = await makeFixture(t);
      const seeder = await startAria2Seeder({
        torrentPath: fixture.torrentPath,
        dataDir: fixture.dataDir,
        address: nextLoopbackAddress(),
        extraArgs: ['--bt-tracker-interval=1'], // meet leechers that announce after it
      });
      t.after(() => seeder.stop());
      await seeder.waitSeeding(60_000);

      const outDir = join(fixture.work, 'out');
      const started = performance.now();
      const handle = await leecher.start({
        torrentPath: fixture.torrentPath,
        magnet: magnetUri(fixture.facts),
        outDir,
        address: nextLoopbackAddress(),
      });
      t.after(() => handle.stop());
      await handle.waitComplete(90_000);
      t.diagnostic(`${leecher.name}: complete after ${seconds(started)}`);

      const [original, copy] = await Promise.all([
        readFile(join(fixture.dataDir, FILE_NAME)),
        readFile(join(outDir, FILE_NAME)),
      ]);
      assert.ok(original.equals(copy), 'downloaded bytes equal the original');
      await handle.stop();
      assert.ok(pidIsGone(handle.pid), `pid ${handle.pid} is still alive`);
    });
  }
});
