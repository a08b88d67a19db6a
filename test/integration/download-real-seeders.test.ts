/**
 * Issue 3's acceptance tests: Lodestone, run as the CLI a user runs,
 * downloads from real clients (aria2, Transmission, qBittorrent) found
 * through a real opentracker over HTTP and UDP, on loopback only.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { buildTorrentFile, parseTorrent } from '../../src/metainfo/index.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';
import { type RunningOpentracker, startOpentracker } from '../helpers/opentracker.js';
import {
  createTorrentWithMktorrent,
  makeRandomContent,
  nextLoopbackAddress,
  type RealClientHandle,
  startAria2Seeder,
  startQbittorrentSeeder,
  startTransmissionSeeder,
  type WrittenContent,
} from '../helpers/real-clients/index.js';
import { requireTool, toolAvailable } from '../helpers/tools.js';

const MiB = 1024 * 1024;
const TOOLS = [
  'opentracker',
  'mktorrent',
  'aria2c',
  'transmission-daemon',
  'transmission-remote',
  'qbittorrent-nox',
];

interface Fixture {
  root: string;
  tracker: RunningOpentracker;
  /** Content folder the seeders use: holds `single.bin` and `multi/`. */
  dataDir: string;
  single: FixtureTorrent;
  multi: FixtureTorrent;
}

interface FixtureTorrent {
  torrent: string;
  infoHashHex: string;
  udpTorrent: string;
  content: WrittenContent;
}

let fixture: Fixture | undefined;

/** The same info dictionary announced only to the UDP tracker: same info-hash, same swarm. */
async function udpOnlyCopy(torrentPath: string, udpUrl: string): Promise<string> {
  const meta = parseTorrent(await readFile(torrentPath));
  const out = torrentPath.replace(/\.torrent$/, '.udp.torrent');
  await writeFile(out, buildTorrentFile(meta.infoBytes, { announceTiers: [[udpUrl]] }));
  return out;
}

before(async () => {
  if (!TOOLS.every(toolAvailable)) return; // each test reports the missing tool itself
  const root = await mkdtemp(join(tmpdir(), 'lodestone-dl-'));
  const dataDir = join(root, 'data');
  // Odd sizes so the final piece is short and files straddle pieces.
  const single = await makeRandomContent(dataDir, {
    files: [{ path: 'single.bin', size: 24 * MiB + 12_345 }],
  });
  const multi = await makeRandomContent(join(dataDir, 'multi'), {
    files: [
      { path: 'a/one.bin', size: 7 * MiB + 3 },
      { path: 'a/b/two.bin', size: 5 * MiB + 77_777 },
      { path: 'three.bin', size: 9 * MiB + 1 },
      { path: 'z-small.txt', size: 1000 },
    ],
  });
  const tracker = await startOpentracker({ infoHashes: [] });
  const singleTorrent = await createTorrentWithMktorrent({
    path: join(dataDir, 'single.bin'),
    announce: [tracker.httpUrl],
    out: join(root, 'single.torrent'),
  });
  const multiTorrent = await createTorrentWithMktorrent({
    path: join(dataDir, 'multi'),
    announce: [tracker.httpUrl],
    pieceLengthExp: 17,
    out: join(root, 'multi.torrent'),
  });
  const entry = async (torrent: string, content: WrittenContent): Promise<FixtureTorrent> => {
    const { infoHashHex } = parseTorrent(await readFile(torrent));
    await tracker.addInfoHash(infoHashHex);
    return { torrent, infoHashHex, udpTorrent: await udpOnlyCopy(torrent, tracker.udpUrl), content };
  };
  fixture = {
    root,
    tracker,
    dataDir,
    single: await entry(singleTorrent, single),
    multi: await entry(multiTorrent, multi),
  };
});

after(async () => {
  await fixture?.tracker.stop();
  if (fixture) await rm(fixture.root, { recursive: true, force: true });
});

function ready(t: TestContext): Fixture | undefined {
  for (const tool of TOOLS) if (!requireTool(t, tool)) return undefined;
  assert.ok(fixture, 'fixture set up');
  return fixture;
}

type SeederKind = 'aria2' | 'transmission' | 'qbittorrent';

/** Upload limit, in KiB/s, for seeders that must all take part rather than one serving everything. */
async function startSeeder(
  t: TestContext,
  kind: SeederKind,
  { torrent, infoHashHex }: FixtureTorrent,
  dataDir: string,
  extra: string[] = [],
  limitKiB?: number,
) {
  const address = nextLoopbackAddress();
  let seeder: RealClientHandle;
  if (kind === 'aria2') {
    const limit = limitKiB === undefined ? [] : [`--max-upload-limit=${limitKiB}K`];
    seeder = await startAria2Seeder({
      torrentPath: torrent,
      dataDir,
      address,
      extraArgs: [...extra, ...limit],
    });
  } else if (kind === 'transmission') {
    const limit =
      limitKiB === undefined ? {} : { 'speed-limit-up-enabled': true, 'speed-limit-up': limitKiB };
    seeder = await startTransmissionSeeder({ torrentPath: torrent, dataDir, address, extraSettings: limit });
  } else {
    const limit: Record<string, string[]> =
      limitKiB === undefined ? {} : { BitTorrent: [`Session\\GlobalUPSpeedLimit=${limitKiB}`] };
    seeder = await startQbittorrentSeeder({ torrentPath: torrent, dataDir, address, extraConfig: limit });
  }
  t.after(() => seeder.stop());
  await seeder.waitSeeding(60_000);
  // A client says "seeding" before its first announce reaches the tracker; a download announcing
  // in between would be told of nobody and wait out the tracker's interval.
  await fixture!.tracker.waitForPeer(infoHashHex, seeder.address, seeder.port, 60_000);
  return seeder;
}

async function assertSameFiles(content: WrittenContent, outDir: string, prefix: string): Promise<void> {
  for (const file of content.files) {
    const expected = await readFile(file.absolutePath);
    const actual = await readFile(join(outDir, prefix, file.path));
    assert.equal(actual.length, expected.length, `${file.path} size`);
    assert.ok(actual.equals(expected), `${file.path} is byte-identical`);
  }
}

/** Runs `lodestone download` to completion and returns its JSON events. */
async function download(
  t: TestContext,
  torrent: string,
  outDir: string,
  extra: string[] = [],
): Promise<CliEvent[]> {
  const run = runCli([
    'download',
    torrent,
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
  const result = await run.exited;
  assert.equal(
    result.code,
    0,
    `lodestone exits 0 once every piece is verified; stderr: ${result.stderr.slice(-3000)}`,
  );
  return run.events;
}

describe('download from real seeders via opentracker', { timeout: 600_000 }, () => {
  for (const kind of ['aria2', 'transmission', 'qbittorrent'] as const) {
    test(`from ${kind} alone: single-file over HTTP announce, multi-file over UDP announce`, async (t) => {
      const f = ready(t);
      if (!f) return;
      await startSeeder(t, kind, f.single, f.dataDir);
      await startSeeder(t, kind, f.multi, f.dataDir);
      const out = await mkdtemp(join(f.root, `out-${kind}-`));

      const singleEvents = await download(t, f.single.torrent, out);
      assert.ok(
        singleEvents.some((e) => e.type === 'tracker-response' && String(e.url).startsWith('http://')),
        'peers came from the HTTP announce',
      );
      await assertSameFiles(f.single.content, out, '');

      const multiEvents = await download(t, f.multi.udpTorrent, out);
      assert.ok(
        multiEvents.some((e) => e.type === 'tracker-response' && String(e.url).startsWith('udp://')),
        'peers came from the UDP announce',
      );
      await assertSameFiles(f.multi.content, out, 'multi');
    });
  }

  test('from aria2, Transmission and qBittorrent at once', async (t) => {
    const f = ready(t);
    if (!f) return;
    // Each limited to 3 MiB/s, so the download takes seconds and every seeder's handshake lands in it.
    for (const kind of ['aria2', 'transmission', 'qbittorrent'] as const) {
      await startSeeder(t, kind, f.multi, f.dataDir, [], 3072);
    }
    const out = await mkdtemp(join(f.root, 'out-all-'));
    const events = await download(t, f.multi.torrent, out);
    const connected = new Set(events.filter((e) => e.type === 'peer-connected').map((e) => e.address));
    const offered = Math.max(
      ...events.filter((e) => e.type === 'tracker-response').map((e) => Number(e.peers)),
    );
    const gone = events.filter((e) => e.type === 'peer-disconnected').map((e) => `${e.address}: ${e.reason}`);
    assert.ok(offered >= 3, `the tracker offered all three seeders (${offered})`);
    assert.ok(
      connected.size >= 3,
      `connected to all three seeders: ${[...connected].join(', ')}; ${gone.join('; ')}`,
    );
    await assertSameFiles(f.multi.content, out, 'multi');
  });

  test('a seeder killed in the middle: the download finishes from the others', async (t) => {
    const f = ready(t);
    if (!f) return;
    // Throttled so the download takes seconds and the kill lands mid-way.
    const limit = ['--max-upload-limit=2M'];
    const doomed = await startSeeder(t, 'aria2', f.single, f.dataDir, limit);
    await startSeeder(t, 'aria2', f.single, f.dataDir, limit);
    const out = await mkdtemp(join(f.root, 'out-kill-'));
    const run = runCli([
      'download',
      f.single.torrent,
      '-o',
      out,
      '--json',
      '--port',
      '0',
      '--bind',
      nextLoopbackAddress(),
    ]);
    t.after(() => run.stop());
    const doomedAddress = `${doomed.address}:${doomed.port}`;
    await run.waitFor((e) => e.type === 'peer-connected' && e.address === doomedAddress, 60_000);
    await run.waitFor((e) => e.type === 'progress' && Number(e.percent) >= 20, 120_000);
    await doomed.stop();
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    assert.ok(
      run.events.some((e) => e.type === 'peer-disconnected' && e.address === doomedAddress),
      'the killed seeder was seen leaving',
    );
    await assertSameFiles(f.single.content, out, '');
  });

  test('resume: interrupted with SIGINT, restarted, finishes without re-downloading verified pieces', async (t) => {
    const f = ready(t);
    if (!f) return;
    await startSeeder(t, 'aria2', f.single, f.dataDir, ['--max-upload-limit=3M']);
    const meta = parseTorrent(await readFile(f.single.torrent));
    const out = await mkdtemp(join(f.root, 'out-resume-'));
    const bind = nextLoopbackAddress();

    const first = runCli(['download', f.single.torrent, '-o', out, '--json', '--port', '0', '--bind', bind]);
    t.after(() => first.stop());
    await first.waitFor((e) => e.type === 'progress' && Number(e.percent) >= 40, 120_000);
    first.child.kill('SIGINT');
    const stopped = await first.exited;
    assert.equal(stopped.code, 130, 'Ctrl-C exits with 130');
    const verifiedBefore = first.events.filter((e) => e.type === 'piece-verified').length;
    assert.ok(verifiedBefore > 0 && verifiedBefore < meta.pieceCount);

    const second = runCli(['download', f.single.torrent, '-o', out, '--json', '--port', '0', '--bind', bind]);
    t.after(() => second.stop());
    const result = await second.exited;
    assert.equal(result.code, 0, result.stderr.slice(-3000));
    const check = second.events.filter((e) => e.type === 'checking').at(-1);
    assert.ok(check, 'the restart checks existing data');
    assert.ok(
      Number(check.valid) >= verifiedBefore,
      `pieces kept: ${check.valid} of ${verifiedBefore} verified`,
    );
    const done = second.events.find((e) => e.type === 'done');
    const missing = meta.totalLength - Number(check.valid) * meta.pieceLength;
    assert.ok(
      Number(done?.downloadedBytes) <= missing + meta.pieceLength,
      `downloaded ${done?.downloadedBytes} bytes, at most the ${missing} missing (+ one piece of endgame slack)`,
    );
    await assertSameFiles(f.single.content, out, '');
  });
});
