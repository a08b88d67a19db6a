import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TorrentFile, TorrentMetadata } from '../../../src/metainfo/types.js';

export interface FileSpec {
  path: string[];
  length: number;
  padding?: boolean;
}

export interface Fixture {
  meta: TorrentMetadata;
  /** The whole torrent's bytes (padding files are zeros, as BEP 47 requires). */
  content: Buffer;
  /** Piece `index` of `content`. */
  piece(index: number): Buffer;
  /** Piece `index` split into blocks of `blockSize` bytes. */
  blocks(index: number, blockSize?: number): Buffer[];
}

/** Deterministic pseudo-random bytes (so failures reproduce). */
export function patternBytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/**
 * A TorrentMetadata built by hand (no bencode, no metainfo parser) with real
 * SHA-1 piece hashes over `content` (generated when not given).
 */
export function makeFixture(files: FileSpec[], pieceLength: number, content?: Buffer): Fixture {
  let offset = 0;
  const torrentFiles: TorrentFile[] = files.map((spec) => {
    const file = { path: spec.path, length: spec.length, offset, padding: spec.padding ?? false };
    offset += spec.length;
    return file;
  });
  const totalLength = offset;
  const data = content ?? patternBytes(totalLength);
  if (data.length !== totalLength) throw new RangeError('content does not match file lengths');
  for (const file of torrentFiles) if (file.padding) data.fill(0, file.offset, file.offset + file.length);
  const pieceCount = Math.ceil(totalLength / pieceLength);
  const hashes: Buffer[] = [];
  for (let i = 0; i < pieceCount; i++) {
    hashes.push(
      createHash('sha1')
        .update(data.subarray(i * pieceLength, (i + 1) * pieceLength))
        .digest(),
    );
  }
  const infoHash = createHash('sha1').update(data).digest();
  const meta: TorrentMetadata = {
    infoHash,
    infoHashHex: infoHash.toString('hex'),
    infoBytes: Buffer.alloc(0),
    name: torrentFiles[0]?.path[0] ?? 'fixture',
    pieceLength,
    pieceCount,
    lastPieceLength: totalLength - (pieceCount - 1) * pieceLength,
    pieceHashes: Buffer.concat(hashes),
    files: torrentFiles,
    totalLength,
    multiFile: files.length > 1,
    private: false,
    announceTiers: [],
    webSeeds: [],
    version: 'v1',
  };
  const piece = (index: number) =>
    data.subarray(index * pieceLength, Math.min((index + 1) * pieceLength, totalLength));
  const blocks = (index: number, blockSize = 16384) => {
    const whole = piece(index);
    const out: Buffer[] = [];
    for (let begin = 0; begin < whole.length; begin += blockSize)
      out.push(whole.subarray(begin, begin + blockSize));
    return out;
  };
  return { meta, content: data, piece, blocks };
}

/** A fresh temporary folder; remove it with the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-storage-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
