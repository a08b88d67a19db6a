/**
 * `lodestone/metainfo`: Torrent files and magnet links: parsing, building a .torrent around
 * fetched metadata, describing, file-path safety, the piece ↔ file map.
 *
 * @module lodestone/metainfo
 */
export {
  describeMagnet,
  describeTorrent,
  type MagnetDescription,
  type TorrentDescription,
} from './describe.js';
export {
  type FileList,
  MAX_COMPONENT_BYTES,
  type NameRules,
  type RenamedFile,
  renamedFiles,
  type SkippedSymlink,
  sanitizeComponent,
  sanitizePath,
  skippedSymlinks,
} from './file-names.js';
export { formatBytes } from './format.js';
export { MAX_PIECE_LENGTH, MAX_TOTAL_LENGTH, MIN_PIECE_LENGTH } from './info-dictionary.js';
export { formatMagnet, parseMagnet, toMagnetUri } from './magnet.js';
export { type MetadataExtras, parseInfoDictionary, parseTorrent } from './parse-torrent.js';
export {
  assertSafeComponent,
  type ComponentRules,
  resolveInside,
  unsafeComponentReason,
} from './path-safety.js';
export { fileRangesForSpan, pieceLength, pieceToFileRanges } from './piece-map.js';
export { buildTorrentFile, type TorrentFileExtras } from './torrent-file.js';
export type {
  FileRange,
  MagnetLink,
  MetainfoWarning,
  MetainfoWarningCode,
  SymlinkTarget,
  TorrentFile,
  TorrentMetadata,
} from './types.js';
