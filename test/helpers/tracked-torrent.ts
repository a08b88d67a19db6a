import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startOpentracker } from './opentracker.js';
import {
  createTorrentWithMktorrent,
  makeRandomContent,
  readTorrentFacts,
  type TorrentFacts,
} from './real-clients/index.js';

export interface TrackedTorrent {
  work: string;
  dataDir: string;
  torrentPath: string;
  facts: TorrentFacts;
  trackerUrl: string;
}

/**
 * A temp folder, a running opentracker and a single-file torrent of `size` random bytes
 * (64 KiB pieces, made by mktorrent) that it whitelists; all cleaned up after the test.
 */
export async function trackedTorrent(
  t: TestContext,
  options: { prefix: string; fileName: string; size: number },
): Promise<TrackedTorrent> {
  const work = await mkdtemp(join(tmpdir(), options.prefix));
  t.after(() => rm(work, { recursive: true, force: true }));
  const tracker = await startOpentracker({ infoHashes: [] });
  t.after(() => tracker.stop());
  const dataDir = join(work, 'data');
  await makeRandomContent(dataDir, { files: [{ path: options.fileName, size: options.size }] });
  const torrentPath = await createTorrentWithMktorrent({
    path: join(dataDir, options.fileName),
    announce: [tracker.httpUrl],
    pieceLengthExp: 16,
    out: join(work, 'payload.torrent'),
  });
  const facts = await readTorrentFacts(torrentPath);
  await tracker.addInfoHash(facts.infoHashHex);
  return { work, dataDir, torrentPath, facts, trackerUrl: tracker.httpUrl };
}
