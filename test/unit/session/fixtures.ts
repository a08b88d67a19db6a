import type { TorrentMetadata } from '../../../src/metainfo/types.js';
import { pieceHashesOf } from '../../helpers/piece-hashes.js';

/** Metadata for `content` cut into pieces of `pieceLength`: only the fields the session's parts read. */
export function metaFor(content: Buffer, pieceLength: number): TorrentMetadata {
  const pieceCount = Math.ceil(content.length / pieceLength);
  return {
    pieceLength,
    pieceCount,
    lastPieceLength: content.length - (pieceCount - 1) * pieceLength,
    pieceHashes: pieceHashesOf(content, pieceLength),
    totalLength: content.length,
  } as TorrentMetadata;
}
