/** Loopback swarms for the rate-limit tests: a fast Lodestone seeder and a leecher, and a rate meter. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { PeerAddress } from '../../src/address.js';
import type { TorrentMetadata } from '../../src/metainfo/index.js';
import { Client, type ClientOptions } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import { type LodestoneSeeder, singleFileTorrent, startLodestoneSeeder } from './lodestone-seeder.js';

export const MiB = 1024 * 1024;

/** A temporary folder removed after the test. */
export async function tempRoot(t: TestContext, prefix: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(root, { recursive: true, force: true }));
  return root;
}

/** A random single-file torrent of `size` bytes seeded by Lodestone on `host`. */
export async function seedRandom(
  t: TestContext,
  root: string,
  name: string,
  size: number,
  host: string,
  client: Omit<ClientOptions, 'port' | 'bindAddress'> = {},
): Promise<{ meta: TorrentMetadata; seeder: LodestoneSeeder }> {
  const data = randomBytes(size);
  const meta = singleFileTorrent(name, data, 256 * 1024);
  const seeder = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(root, `seed-${name}`),
    host,
    client,
  });
  t.after(() => seeder.client.close());
  return { meta, seeder };
}

/** A leecher client on `host`, closed after the test. */
export async function startLeecher(
  t: TestContext,
  host: string,
  options: Omit<ClientOptions, 'port' | 'bindAddress'> = {},
): Promise<Client> {
  const client = new Client({ hashWorkers: 1, ...options, port: 0, bindAddress: host });
  t.after(() => client.close());
  await client.listen();
  return client;
}

/** Adds `meta` to `client`, downloading from `peers` into `dir`, and starts it. */
export async function leech(
  client: Client,
  meta: TorrentMetadata,
  dir: string,
  peers: PeerAddress[],
  limits: { downloadLimit?: number; uploadLimit?: number } = {},
): Promise<TorrentSession> {
  const session = client.add(meta, { path: dir, useTrackers: false, peers, ...limits });
  session.on('error', () => {});
  await session.start();
  return session;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `bytes()` moved (the transfer started), failing after `timeoutMs`. */
export async function started(bytes: () => number, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (bytes() === 0) {
    if (Date.now() > end) throw new Error('the transfer did not start');
    await sleep(20);
  }
}

/**
 * The average rate of `bytes()` (a running total) over `windowMs`, after `warmUpMs`: bytes
 * actually moved between two timestamps, not a meter's estimate.
 */
export async function measureRate(bytes: () => number, warmUpMs: number, windowMs: number): Promise<number> {
  await sleep(warmUpMs);
  const t0 = performance.now();
  const b0 = bytes();
  await sleep(windowMs);
  const t1 = performance.now();
  const b1 = bytes();
  return ((b1 - b0) * 1000) / (t1 - t0);
}

/** "1.96 MB/s (limit 2.00, -2.0%)" for assertion messages. */
export function describeRate(rate: number, limit: number): string {
  return `${(rate / 1e6).toFixed(3)} MB/s (limit ${(limit / 1e6).toFixed(3)}, ${(((rate - limit) / limit) * 100).toFixed(1)}%)`;
}

/** True when `rate` is within ±`band` (a fraction) of `limit`. */
export function within(rate: number, limit: number, band = 0.1): boolean {
  return Math.abs(rate - limit) <= band * limit;
}
