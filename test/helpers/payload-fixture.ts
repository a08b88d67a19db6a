/**
 * One random single-file torrent (`payload.bin`, 64 KiB pieces) in a temp folder removed after
 * the test: the torrent file, its parsed metadata, and a seed folder holding the data.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import type { TorrentMetadata } from '../../src/metainfo/types.js';
import { pieceHashesOf } from './piece-hashes.js';

export const PAYLOAD_PIECE = 64 * 1024;

export interface PayloadFixture {
  root: string;
  data: Buffer;
  torrentPath: string;
  meta: TorrentMetadata;
  /** Holds `payload.bin`. */
  seedDir: string;
}

export async function payloadFixture(t: TestContext, size: number, prefix: string): Promise<PayloadFixture> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(root, { recursive: true, force: true }));
  const data = randomBytes(size);
  const torrent = encode({
    info: {
      name: 'payload.bin',
      'piece length': PAYLOAD_PIECE,
      pieces: pieceHashesOf(data, PAYLOAD_PIECE),
      length: data.length,
    },
  });
  const torrentPath = join(root, 'payload.torrent');
  await writeFile(torrentPath, torrent);
  const seedDir = join(root, 'seed');
  await mkdir(seedDir, { recursive: true });
  await writeFile(join(seedDir, 'payload.bin'), data);
  return { root, data, torrentPath, meta: parseTorrent(torrent), seedDir };
}
