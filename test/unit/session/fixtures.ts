import { createHash } from 'node:crypto';
import type { TorrentMetadata } from '../../../src/metainfo/types.js';

/** Metadata for `content` cut into pieces of `pieceLength`: only the fields the session's parts read. */
export function metaFor(content: Buffer, pieceLength: number): TorrentMetadata {
  const pieceCount = Math.ceil(content.length / pieceLength);
  const hashes = [];
  for (let i = 0; i < pieceCount; i++) {
    hashes.push(
      createHash('sha1')
        .update(content.subarray(i * pieceLength, (i + 1) * pieceLength))
        .digest(),
    );
  }
  return {
    pieceLength,
    pieceCount,
    lastPieceLength: content.length - (pieceCount - 1) * pieceLength,
    pieceHashes: Buffer.concat(hashes),
    totalLength: content.length,
  } as TorrentMetadata;
}
