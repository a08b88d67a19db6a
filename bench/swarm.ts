/**
 * The loopback swarm the benchmark downloads from: random content, a torrent
 * made by the real `mktorrent`, an opentracker that whitelists it, and
 * seeders (aria2, qBittorrent, Transmission, Lodestone), each on its own
 * 127.x address and reported ready only once it serves every piece and the
 * tracker lists it (docs/interop.md: opentracker trap 1, and ready means ready).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CliRun, runCli } from '../test/helpers/lodestone-cli.js';
import type { RunningOpentracker } from '../test/helpers/opentracker.js';
import {
  createTorrentWithMktorrent,
  magnetUri,
  makeRandomContent,
  nextLoopbackAddress,
  type RealClientHandle,
  readTorrentFacts,
  servesCompleteTorrent,
  startAria2Seeder,
  startQbittorrentSeeder,
  startTransmissionSeeder,
  type TorrentFacts,
  waitTrackerListsPeer,
} from '../test/helpers/real-clients/index.js';
import { toolAvailable } from '../test/helpers/tools.js';
import { webtorrentAvailable } from '../test/helpers/webtorrent/index.js';
import {
  BenchError,
  type Cleanup,
  type ExpectedFile,
  formatSize,
  type ProcessSample,
  pollFor,
  sampleProcess,
  sha1OfFile,
} from './measure.js';

export const SEEDER_KINDS = ['aria2', 'qbittorrent', 'transmission', 'lodestone'] as const;
export type SeederKind = (typeof SEEDER_KINDS)[number];
export const LEECHER_KINDS = ['lodestone', 'aria2', 'webtorrent'] as const;
export type LeecherKind = (typeof LEECHER_KINDS)[number];
export type ClientKind = SeederKind | LeecherKind;

/** Executables a client needs; WebTorrent is the npm package instead. Lodestone is ours. */
const TOOLS: Record<ClientKind, string[]> = {
  aria2: ['aria2c'],
  qbittorrent: ['qbittorrent-nox'],
  transmission: ['transmission-daemon', 'transmission-remote'],
  webtorrent: [],
  lodestone: [],
};

/** What is missing to run `kind` here, e.g. ['aria2c'] or ['webtorrent (npm)']; empty when ready. */
export function missingFor(kind: ClientKind): string[] {
  const missing = TOOLS[kind].filter((tool) => !toolAvailable(tool));
  if (kind === 'webtorrent' && !webtorrentAvailable()) missing.push('webtorrent (npm)');
  return missing;
}

export interface BenchTorrent {
  torrentPath: string;
  magnet: string;
  facts: TorrentFacts;
  /** Folder that holds the content under the torrent's name (what seeders are given). */
  dataDir: string;
  /** The files as they must appear in a download folder, with their SHA-1. */
  expected: ExpectedFile[];
  totalSize: number;
}

export interface ContentOptions {
  /** Folder to create the content and the torrent in (removed by the caller). */
  root: string;
  size: number;
  /** 1: a single-file torrent; more: a folder of that many files (sizes add up to `size`). */
  fileCount: number;
  /** Piece length 2^n bytes. */
  pieceLengthExp: number;
  trackerUrl: string;
}

/** Writes random content, hashes it (for verification) and makes the torrent with mktorrent. */
export async function prepareTorrent(options: ContentOptions): Promise<BenchTorrent> {
  const dataDir = join(options.root, 'data');
  await mkdir(dataDir, { recursive: true });
  const name = `bench-${formatSize(options.size)}`;
  const count = Math.max(1, Math.floor(options.fileCount));
  const base = Math.floor(options.size / count);
  // The last file takes the remainder; odd sizes make the last piece short, as in real torrents.
  const sizes = Array.from({ length: count }, (_, i) => (i === count - 1 ? options.size - base * i : base));
  const single = count === 1;
  const contentDir = single ? dataDir : join(dataDir, name);
  const content = await makeRandomContent(contentDir, {
    files: sizes.map((size, i) => ({ path: single ? `${name}.bin` : `part-${i + 1}.bin`, size })),
  });
  const expected: ExpectedFile[] = [];
  for (const file of content.files) {
    expected.push({
      path: single ? file.path : `${name}/${file.path}`,
      size: file.size,
      sha1: await sha1OfFile(file.absolutePath),
    });
  }
  const torrentPath = await createTorrentWithMktorrent({
    path: single ? join(dataDir, `${name}.bin`) : contentDir,
    announce: [options.trackerUrl],
    pieceLengthExp: options.pieceLengthExp,
    out: join(options.root, `${name}.torrent`),
  });
  const facts = await readTorrentFacts(torrentPath);
  return { torrentPath, magnet: magnetUri(facts), facts, dataDir, expected, totalSize: content.totalSize };
}

export interface SeederSettings {
  /**
   * Serve encrypted (RC4) and plaintext peers alike, selecting RC4 whenever a peer comes
   * encrypted: aria2 `--bt-min-crypto-level=arc4`, Transmission `encryption: 1` (prefer
   * encrypted), qBittorrent `Session\Encryption=0` (its default here: both accepted). Lodestone
   * seeds at its default `prefer`, which already does this. Without it, the seeders keep the
   * settings of the interop helpers (aria2 plain, Transmission prefer plaintext).
   */
  acceptEncrypted?: boolean;
}

export interface RunningSeeder {
  kind: SeederKind;
  address: string;
  port: number;
  pid: number;
  /** CPU and peak RSS now (for CPU spent while serving one download). */
  sample(): Promise<ProcessSample | undefined>;
  stop(): Promise<void>;
}

/**
 * Starts one seeder on a fresh loopback address and waits until it serves the
 * whole torrent and the tracker hands out its address. Its stop is registered
 * with `cleanup` before anything is awaited.
 */
export async function startSeeder(
  kind: SeederKind,
  torrent: BenchTorrent,
  tracker: RunningOpentracker,
  cleanup: Cleanup,
  timeoutMs: number,
  settings: SeederSettings = {},
): Promise<RunningSeeder> {
  const address = nextLoopbackAddress();
  const seeder =
    kind === 'lodestone'
      ? await startLodestoneSeeder(torrent, address, cleanup, timeoutMs)
      : await startRealSeeder(kind, torrent, address, cleanup, timeoutMs, settings);
  await waitTrackerListsPeer(tracker.httpUrl, torrent.facts.infoHash, seeder, 30_000);
  return seeder;
}

async function startRealSeeder(
  kind: Exclude<SeederKind, 'lodestone'>,
  torrent: BenchTorrent,
  address: string,
  cleanup: Cleanup,
  timeoutMs: number,
  settings: SeederSettings,
): Promise<RunningSeeder> {
  const options = { torrentPath: torrent.torrentPath, dataDir: torrent.dataDir, address };
  const encrypted = settings.acceptEncrypted === true;
  let handle: RealClientHandle;
  if (kind === 'aria2')
    handle = await startAria2Seeder({
      ...options,
      ...(encrypted ? { extraArgs: ['--bt-min-crypto-level=arc4'] } : {}),
    });
  else if (kind === 'qbittorrent') handle = await startQbittorrentSeeder(options);
  else
    handle = await startTransmissionSeeder({
      ...options,
      ...(encrypted ? { extraSettings: { encryption: 1 } } : {}),
    });
  const stop = cleanup.add(`${kind} seeder (pid ${handle.pid})`, () => handle.stop());
  await handle.waitSeeding(timeoutMs);
  return {
    kind,
    address,
    port: handle.port,
    pid: handle.pid,
    sample: () => sampleProcess(handle.pid),
    stop,
  };
}

/** `lodestone seed t.torrent DATA --bind ADDR --port 0 --json`, as a user runs it. */
async function startLodestoneSeeder(
  torrent: BenchTorrent,
  address: string,
  cleanup: Cleanup,
  timeoutMs: number,
): Promise<RunningSeeder> {
  const run: CliRun = runCli([
    'seed',
    torrent.torrentPath,
    torrent.dataDir,
    '--bind',
    address,
    '--port',
    '0',
    '--json',
  ]);
  const pid = run.child.pid;
  const stop = cleanup.add(`lodestone seeder (pid ${pid})`, () => run.stop());
  if (pid === undefined) throw new BenchError('could not start the Lodestone seeder');
  const start = await run.waitFor((event) => event.type === 'start', 30_000);
  await run.waitFor((event) => event.type === 'seeding', timeoutMs);
  const port = Number(start.port);
  await pollFor(`Lodestone seeder on ${address}:${port} to serve every piece`, 15_000, 200, async () =>
    (await servesCompleteTorrent(address, port, torrent.facts)) ? true : undefined,
  );
  return { kind: 'lodestone', address, port, pid, sample: () => sampleProcess(pid), stop };
}
