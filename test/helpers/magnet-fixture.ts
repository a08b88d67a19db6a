/**
 * The content, tracker and `.torrent` the magnet tests share: random files under `<root>/data/mag`,
 * opentracker on loopback knowing the info-hash, and a torrent made by mktorrent in 32 KiB pieces,
 * so the info dictionary spans more than one 16 KiB metadata block.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTorrent } from '../../src/metainfo/index.js';
import { type RunningOpentracker, startOpentracker } from './opentracker.js';
import { createTorrentWithMktorrent, makeRandomContent, type WrittenContent } from './real-clients/index.js';

export interface MagnetFixture {
  root: string;
  tracker: RunningOpentracker;
  dataDir: string;
  torrent: string;
  infoHashHex: string;
  /** Length of the info dictionary (what the metadata exchange transfers). */
  infoBytes: number;
  content: WrittenContent;
}

/** `files`: paths and sizes under the torrent's folder `mag`. */
export async function startMagnetFixture(
  prefix: string,
  files: { path: string; size: number }[],
): Promise<MagnetFixture> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const dataDir = join(root, 'data');
  const content = await makeRandomContent(join(dataDir, 'mag'), { files });
  const tracker = await startOpentracker({ infoHashes: [] });
  const torrent = await createTorrentWithMktorrent({
    path: join(dataDir, 'mag'),
    announce: [tracker.httpUrl],
    pieceLengthExp: 15, // many pieces: the info dictionary spans several metadata blocks
    out: join(root, 'mag.torrent'),
  });
  const meta = parseTorrent(await readFile(torrent));
  assert.ok(meta.infoBytes.length > 16 * 1024, 'at least two metadata blocks');
  await tracker.addInfoHash(meta.infoHashHex);
  return {
    root,
    tracker,
    dataDir,
    torrent,
    infoHashHex: meta.infoHashHex,
    infoBytes: meta.infoBytes.length,
    content,
  };
}

export async function stopMagnetFixture(fixture: MagnetFixture | undefined): Promise<void> {
  if (fixture === undefined) return;
  await fixture.tracker.stop();
  await rm(fixture.root, { recursive: true, force: true });
}

/** The fixture's magnet link with its tracker (`dn=mag`). */
export function trackerMagnet(fixture: MagnetFixture): string {
  return `magnet:?xt=urn:btih:${fixture.infoHashHex}&dn=mag&tr=${encodeURIComponent(fixture.tracker.httpUrl)}`;
}
