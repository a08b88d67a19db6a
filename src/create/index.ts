/** Torrent creation: above metainfo (the format it writes) and storage (the hash pool it uses). */
export {
  assertValidPieceLength,
  autoPieceLength,
  type CreatedTorrent,
  type CreateTorrentOptions,
  createTorrent,
  DEFAULT_CREATED_BY,
  type SkippedEntry,
} from './create.js';
