/**
 * `lodestone/create`: Making torrents (v1, BEP 12 tiers, BEP 19 web seeds), hashed on a worker
 * pool, and the piece-length rules.
 *
 * @module lodestone/create
 */
/** Torrent creation: above metainfo (the format it writes) and storage (the hash pool it uses). */
export {
  assertValidPieceLength,
  autoPieceLength,
  type CreatedTorrent,
  type CreateTorrentOptions,
  createTorrent,
  DEFAULT_CREATED_BY,
  NAME_RULES,
  type SkippedEntry,
} from './create.js';
