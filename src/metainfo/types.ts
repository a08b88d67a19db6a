import type { PeerAddress } from '../address.js';

/** One file of a torrent, placed in the concatenated byte stream of all files. */
export interface TorrentFile {
  /**
   * Safe path components relative to the download folder (first is the torrent
   * name for multi-file), after sanitising (see file-names.ts).
   */
  path: string[];
  /** Bytes in the piece space: 0 for a symlink, whatever the torrent says. */
  length: number;
  /** Offset of the file's first byte in the concatenated stream. */
  offset: number;
  /**
   * BEP 47 padding file (`attr` contains `p`, or a BitComet `_____padding_file_…`
   * name): never written to disk, read as zeros.
   */
  padding: boolean;
  /** The path as the torrent spells it, present only when sanitising changed it. */
  originalPath?: string[];
  /** BEP 47 symlink (`attr` contains `l` and a `symlink path` is given): created as a link, holds no bytes. */
  symlink?: SymlinkTarget;
  /** BEP 47 `attr` contains `x`: the file is created executable. */
  executable?: boolean;
}

export interface SymlinkTarget {
  /**
   * The target as components from the download folder (same base as `path`),
   * always inside the torrent's folder; null when the torrent's target leaves
   * that folder, in which case no link is created.
   */
  target: string[] | null;
  /** `symlink path` as the torrent spells it, relative to the torrent's folder. */
  original: string[];
}

/**
 * Something unusual in a torrent that was accepted (and ignored or worked around) rather
 * than refused. `code` is stable for programs; `message` is for people.
 */
export interface MetainfoWarning {
  code: MetainfoWarningCode;
  message: string;
}

export type MetainfoWarningCode =
  /** Bytes after the torrent file's root dictionary, ignored (as libtorrent and Transmission do). */
  | 'LODESTONE_WARN_TRAILING_DATA'
  /** `creation date` that is not a plausible time in seconds (e.g. milliseconds, beyond 2^53), ignored. */
  | 'LODESTONE_WARN_CREATION_DATE';

export interface TorrentMetadata {
  /** SHA-1 of the exact `info` bytes (v1 info-hash), 20 bytes. */
  infoHash: Buffer;
  infoHashHex: string;
  /** The raw bencoded `info` dictionary, as served over ut_metadata (BEP 9). */
  infoBytes: Buffer;
  name: string;
  pieceLength: number;
  pieceCount: number;
  lastPieceLength: number;
  /** Concatenated 20-byte SHA-1 hashes, one per piece. */
  pieceHashes: Buffer;
  files: TorrentFile[];
  totalLength: number;
  multiFile: boolean;
  private: boolean;
  /** Announce tiers (BEP 12); `announce` alone becomes a single tier. */
  announceTiers: string[][];
  webSeeds: string[];
  creationDate?: Date;
  comment?: string;
  createdBy?: string;
  /** 'v1' or 'hybrid' (BEP 52 with v1 fields); pure v2 is rejected at parse time. */
  version: 'v1' | 'hybrid';
  /**
   * What was accepted despite being unusual, in the order found. Always set by parseTorrent and
   * parseInfoDictionary (empty for a clean torrent); optional only so hand-built metadata need not carry it.
   */
  warnings?: MetainfoWarning[];
}

/** A stretch of one piece that lies inside one file. */
export interface FileRange {
  fileIndex: number;
  /** Offset inside the file. */
  fileOffset: number;
  /** Offset inside the piece. */
  pieceOffset: number;
  length: number;
}

export interface MagnetLink {
  /** v1 info-hash (20 bytes), absent for a v2-only (`urn:btmh:`) magnet. */
  infoHash?: Buffer;
  infoHashHex?: string;
  /** v2 multihash (hex) from `urn:btmh:`, recognised but not supported for download yet. */
  v2Hash?: string;
  name?: string;
  trackers: string[];
  peers: PeerAddress[];
  webSeeds: string[];
}
