/**
 * Issue 5's acceptance tests: Lodestone alone seeds a torrent made by
 * `lodestone create`, and real clients download it completely from us, from
 * the .torrent and from the magnet link (so they take the metadata from us).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { parseTorrent } from '../../src/metainfo/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { type RunningOpentracker, startOpentracker } from '../helpers/opentracker.js';
import {
  makeRandomContent,
  nextLoopbackAddress,
  type RealLeecherHandle,
  startAria2Leecher,
  startQbittorrentLeecher,
  startTransmissionLeecher,
  type WrittenContent,
  waitTrackerListsPeer,
} from '../helpers/real-clients/index.js';
import { isCI, requireTool, toolAvailable } from '../helpers/tools.js';
import { startWebTorrentLeecher, webtorrentAvailable } from '../helpers/webtorrent/index.js';

const MiB = 1024 * 1024;
const TOOLS = ['opentracker', 'aria2c', 'transmission-daemon', 'qbittorrent-nox'];

interface Fixture {
  root: string;
  tracker: RunningOpentracker;
  dataDir: string;
  torrent: string;
  magnet: string;
  infoHash: Buffer;
  content: WrittenContent;
}
let fixture: Fixture | undefined;

before(async () => {
  if (!TOOLS.every(toolAvailable)) return;
  const root = await mkdtemp(join(tmpdir(), 'lodestone-up-'));
  const dataDir = join(root, 'data');
  const content = await makeRandomContent(join(dataDir, 'shared'), {
    files: [
      { path: 'movie.bin', size: 6 * MiB + 4321 },
      { path: 'extras/a.bin', size: 2 * MiB + 17 },
      { path: 'extras/deeper/b.txt', size: 5000 },
    ],
  });
  const tracker = await startOpentracker({ infoHashes: [] });
  const torrent = join(root, 'shared.torrent');
  const created = runCli([
    'create',
    join(dataDir, 'shared'),
    '-t',
    tracker.httpUrl,
    '-o',
    torrent,
    '--piece-length',
    '64KiB',
    '--json',
  ]);
  const result = await created.exited;
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { magnet: string; infoHash: string };
  await tracker.addInfoHash(summary.infoHash);
  const meta = parseTorrent(await readFile(torrent));
  fixture = { root, tracker, dataDir, torrent, magnet: summary.magnet, infoHash: meta.infoHash, content };
});

after(async () => {
  await fixture?.tracker.stop();
  if (fixture) await rm(fixture.root, { recursive: true, force: true });
});

function ready(t: TestContext): Fixture | undefined {
  for (const tool of TOOLS) if (!requireTool(t, tool)) return undefined;
  if (!webtorrentAvailable()) {
    if (isCI()) throw new Error('webtorrent is required in CI');
    t.skip('webtorrent not installed');
    return undefined;
  }
  assert.ok(fixture);
  return fixture;
}

async function assertSameFiles(content: WrittenContent, outDir: string): Promise<void> {
  for (const file of content.files) {
    const expected = await readFile(file.absolutePath);
    const actual = await readFile(join(outDir, 'shared', file.path));
    assert.ok(actual.equals(expected), `${file.path} is byte-identical`);
  }
}

/** Starts `lodestone seed` after the leecher is known to the tracker, so our first announce hands it to us. */
async function seedTo(t: TestContext, f: Fixture, leecher: RealLeecherHandle) {
  await waitTrackerListsPeer(f.tracker.httpUrl, f.infoHash, { address: leecher.address, port: leecher.port });
  const seeder = runCli([
    'seed',
    f.torrent,
    join(f.dataDir, 'shared'),
    '--bind',
    nextLoopbackAddress(),
    '--port',
    '0',
    '--json',
  ]);
  t.after(() => seeder.stop());
  return seeder;
}

type LeecherKind = 'aria2' | 'transmission' | 'qbittorrent' | 'webtorrent';

async function startLeecher(
  kind: LeecherKind,
  source: { torrentPath: string } | { magnet: string },
  outDir: string,
) {
  const address = nextLoopbackAddress();
  if (kind === 'aria2') return startAria2Leecher({ ...source, outDir, address });
  if (kind === 'transmission') return startTransmissionLeecher({ ...source, outDir, address });
  if (kind === 'webtorrent') return startWebTorrentLeecher({ ...source, outDir, address });
  return startQbittorrentLeecher({ ...source, outDir, address });
}

describe('real clients download from a Lodestone seeder', { timeout: 600_000 }, () => {
  for (const kind of ['aria2', 'transmission', 'qbittorrent', 'webtorrent'] as const) {
    for (const via of ['torrent', 'magnet'] as const) {
      test(`${kind} downloads from Lodestone alone, from the ${via === 'torrent' ? '.torrent' : 'magnet link'}`, async (t) => {
        const f = ready(t);
        if (!f) return;
        const out = await mkdtemp(join(f.root, `out-${kind}-${via}-`));
        const leecher = await startLeecher(
          kind,
          via === 'torrent' ? { torrentPath: f.torrent } : { magnet: f.magnet },
          out,
        );
        t.after(() => leecher.stop());
        const seeder = await seedTo(t, f, leecher);
        await seeder.waitFor((e) => e.type === 'seeding', 60_000);
        await leecher.waitComplete(180_000);
        await assertSameFiles(f.content, out);
        await seeder.stop();
        const stopped = seeder.events.find((e) => e.type === 'stopped');
        assert.ok(
          Number(stopped?.uploadedBytes) >= f.content.totalSize,
          `Lodestone uploaded it all (${stopped?.uploadedBytes})`,
        );
      });
    }
  }
});
