/**
 * A real loopback swarm for the daemon end-to-end tests: opentracker, and an in-process
 * Lodestone seeder (its own loopback address) announcing a multi-file torrent made by mktorrent
 * and a single-file torrent reachable by magnet (`x.pe`), all cleaned up after the test.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseTorrent, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import { startOpentracker } from './opentracker.js';
import {
  createTorrentWithMktorrent,
  makeRandomContent,
  readTorrentFacts,
  type TorrentFacts,
} from './real-clients/index.js';

export interface SwarmTorrent {
  torrentPath: string;
  facts: TorrentFacts;
  meta: TorrentMetadata;
  /** Path → bytes of every file, relative to the download folder (`name/...` for multi-file). */
  files: Map<string, Buffer>;
}

export interface DaemonSwarm {
  seederHost: string;
  seederPort: number;
  trackerUrl: string;
  client: Client;
  torrents: SwarmTorrent[];
  /** The seeder's session of each seeded torrent, in the same order. */
  sessions: TorrentSession[];
  /** A magnet with only `xt`, `dn` and `x.pe` (the seeder): no tracker. */
  magnetOf(torrent: SwarmTorrent): string;
}

export interface SwarmSpec {
  name: string;
  /** One entry: a single-file torrent named `name`; several: a folder `name` with these files. */
  files: { path: string; size: number }[];
  pieceLengthExp?: number;
  /** The seeder seeds it. @default true */
  seed?: boolean;
}

export async function startDaemonSwarm(
  t: TestContext,
  work: string,
  seederHost: string,
  specs: SwarmSpec[],
): Promise<DaemonSwarm> {
  const tracker = await startOpentracker({ infoHashes: [] });
  t.after(() => tracker.stop());
  const dataDir = join(work, 'seed-data');
  await mkdir(dataDir, { recursive: true });
  const torrents: SwarmTorrent[] = [];
  for (const spec of specs) {
    const single = spec.files.length === 1 && spec.files[0]!.path === spec.name;
    const content = await makeRandomContent(single ? dataDir : join(dataDir, spec.name), {
      files: spec.files,
    });
    const torrentPath = await createTorrentWithMktorrent({
      path: join(dataDir, spec.name),
      announce: [tracker.httpUrl],
      pieceLengthExp: spec.pieceLengthExp ?? 15,
      out: join(work, `${spec.name}.torrent`),
    });
    const facts = await readTorrentFacts(torrentPath);
    await tracker.addInfoHash(facts.infoHashHex);
    const files = new Map<string, Buffer>();
    for (const file of content.files)
      files.set(single ? file.path : `${spec.name}/${file.path}`, await readFile(file.absolutePath));
    torrents.push({ torrentPath, facts, meta: parseTorrent(await readFile(torrentPath)), files });
  }
  const client = new Client({ hashWorkers: 1, port: 0, bindAddress: seederHost });
  t.after(() => client.close());
  const seederPort = await client.listen();
  const sessions: TorrentSession[] = [];
  for (const [index, torrent] of torrents.entries()) {
    if (specs[index]!.seed === false) continue;
    const session = client.add(torrent.meta, { path: dataDir, seed: true });
    await session.start();
    sessions.push(session);
    await tracker.waitForPeer(torrent.facts.infoHashHex, seederHost, seederPort, 20_000);
  }
  return {
    seederHost,
    seederPort,
    trackerUrl: tracker.httpUrl,
    client,
    torrents,
    sessions,
    magnetOf: (torrent) =>
      `magnet:?xt=urn:btih:${torrent.facts.infoHashHex}&dn=${encodeURIComponent(torrent.facts.name)}&x.pe=${seederHost}:${seederPort}`,
  };
}
