/**
 * Issue 4's acceptance tests: given only a magnet link, Lodestone fetches
 * the metadata from real clients (BEP 9) and then downloads from them; the
 * .torrent written by `lodestone metadata` is accepted by transmission-show.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { parseTorrent } from '../../src/metainfo/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import {
  type MagnetFixture,
  startMagnetFixture,
  stopMagnetFixture,
  trackerMagnet,
} from '../helpers/magnet-fixture.js';
import {
  nextLoopbackAddress,
  type RealClientHandle,
  startAria2Seeder,
  startQbittorrentSeeder,
  startTransmissionSeeder,
  type WrittenContent,
} from '../helpers/real-clients/index.js';
import { isCI, requireTool, toolAvailable } from '../helpers/tools.js';
import { startWebTorrentSeeder, webtorrentAvailable } from '../helpers/webtorrent/index.js';

const execFileAsync = promisify(execFile);
const MiB = 1024 * 1024;
const TOOLS = [
  'opentracker',
  'mktorrent',
  'aria2c',
  'transmission-daemon',
  'qbittorrent-nox',
  'transmission-show',
];

let fixture: MagnetFixture | undefined;

before(async () => {
  if (!TOOLS.every(toolAvailable)) return;
  fixture = await startMagnetFixture('lodestone-magnet-', [
    { path: 'one.bin', size: 18 * MiB + 321 },
    { path: 'sub/two.bin', size: 10 * MiB + 7 },
  ]);
});

after(() => stopMagnetFixture(fixture));

function ready(t: TestContext): MagnetFixture | undefined {
  for (const tool of TOOLS) if (!requireTool(t, tool)) return undefined;
  if (!webtorrentAvailable()) {
    if (isCI()) throw new Error('webtorrent is required in CI');
    t.skip('webtorrent not installed');
    return undefined;
  }
  assert.ok(fixture);
  return fixture;
}

type SeederKind = 'aria2' | 'transmission' | 'qbittorrent' | 'webtorrent';

async function startSeeder(t: TestContext, kind: SeederKind, f: MagnetFixture): Promise<RealClientHandle> {
  const options = { torrentPath: f.torrent, dataDir: f.dataDir, address: nextLoopbackAddress() };
  const seeder =
    kind === 'aria2'
      ? await startAria2Seeder(options)
      : kind === 'transmission'
        ? await startTransmissionSeeder(options)
        : kind === 'qbittorrent'
          ? await startQbittorrentSeeder(options)
          : await startWebTorrentSeeder({ ...options, announce: [f.tracker.httpUrl] });
  t.after(() => seeder.stop());
  await seeder.waitSeeding(60_000);
  // Only then is the magnet's tracker sure to name it: the download announces once, at start.
  await f.tracker.waitForPeer(f.infoHashHex, seeder.address, seeder.port, 60_000);
  return seeder;
}

async function assertSameFiles(content: WrittenContent, outDir: string): Promise<void> {
  for (const file of content.files) {
    const expected = await readFile(file.absolutePath);
    assert.ok(
      (await readFile(join(outDir, 'mag', file.path))).equals(expected),
      `${file.path} is byte-identical`,
    );
  }
}

async function downloadMagnet(t: TestContext, magnet: string, out: string) {
  const run = runCli([
    'download',
    magnet,
    '-o',
    out,
    '--json',
    '--port',
    '0',
    '--bind',
    nextLoopbackAddress(),
  ]);
  t.after(() => run.stop());
  const result = await run.exited;
  assert.equal(result.code, 0, result.stderr.slice(-3000));
  const metadata = run.events.find((e) => e.type === 'metadata-done');
  assert.ok(metadata, 'a metadata phase ran');
  assert.equal(metadata.infoHash, fixtureHash());
  return run.events;
}

function fixtureHash(): string {
  return fixture!.infoHashHex;
}

describe('magnet links against real clients', { timeout: 600_000 }, () => {
  for (const kind of ['transmission', 'aria2', 'qbittorrent', 'webtorrent'] as const) {
    test(`metadata and data from ${kind}, via a magnet with a loopback tracker`, async (t) => {
      const f = ready(t);
      if (!f) return;
      await startSeeder(t, kind, f);
      const out = await mkdtemp(join(f.root, `out-${kind}-`));
      const magnet = trackerMagnet(f);
      await downloadMagnet(t, magnet, out);
      await assertSameFiles(f.content, out);
    });
  }

  test('metadata and data given only x.pe (no tracker in the magnet)', async (t) => {
    const f = ready(t);
    if (!f) return;
    const seeder = await startSeeder(t, 'aria2', f);
    const out = await mkdtemp(join(f.root, 'out-xpe-'));
    const events = await downloadMagnet(
      t,
      `magnet:?xt=urn:btih:${f.infoHashHex}&x.pe=${seeder.address}:${seeder.port}`,
      out,
    );
    assert.ok(!events.some((e) => e.type === 'tracker-response'), 'no tracker was involved');
    await assertSameFiles(f.content, out);
  });

  test('lodestone metadata writes a .torrent with the same info-hash in transmission-show', async (t) => {
    const f = ready(t);
    if (!f) return;
    const seeder = await startSeeder(t, 'qbittorrent', f);
    const written = join(f.root, 'fetched.torrent');
    const magnet = `magnet:?xt=urn:btih:${f.infoHashHex}&tr=${encodeURIComponent(f.tracker.httpUrl)}&x.pe=${seeder.address}:${seeder.port}`;
    const run = runCli(['metadata', magnet, '-o', written, '--port', '0', '--bind', nextLoopbackAddress()]);
    t.after(() => run.stop());
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    const { stdout } = await execFileAsync('transmission-show', [written]);
    assert.match(stdout, new RegExp(`Hash: ${f.infoHashHex}`));
    const meta = parseTorrent(await readFile(written));
    assert.deepEqual(meta.announceTiers, [[f.tracker.httpUrl]]);
    assert.ok(meta.infoBytes.equals(parseTorrent(await readFile(f.torrent)).infoBytes));
  });
});
