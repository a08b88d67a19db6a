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

/** A parsed torrent: what {@link parseTorrent} returns and a session downloads. */
export interface TorrentMetadata {
  /** SHA-1 of the exact `info` bytes (v1 info-hash), 20 bytes. */
  infoHash: Buffer;
  /** The info-hash in lowercase hex (40 characters). */
  infoHashHex: string;
  /** The raw bencoded `info` dictionary, as served over ut_metadata (BEP 9). */
  infoBytes: Buffer;
  /** The torrent's name: the file name (single file) or the top folder (several files). */
  name: string;
  /** Bytes per piece (a power of two from 16 KiB); the last piece may be shorter. */
  pieceLength: number;
  /** Number of pieces. */
  pieceCount: number;
  /** Bytes in the last piece. */
  lastPieceLength: number;
  /** Concatenated 20-byte SHA-1 hashes, one per piece. */
  pieceHashes: Buffer;
  /** The files in torrent order (padding files included, flagged). */
  files: TorrentFile[];
  /** Size of the content in bytes (sum of the file lengths). */
  totalLength: number;
  /** `info.files` form (a folder), as opposed to `info.length` (one file). */
  multiFile: boolean;
  /** BEP 27 `private`: peers only from the trackers. */
  private: boolean;
  /** Announce tiers (BEP 12); `announce` alone becomes a single tier. */
  announceTiers: string[][];
  /** BEP 19 web seed URLs (`url-list`): parsed, not downloaded from yet. */
  webSeeds: string[];
  /** `creation date`, when present. */
  creationDate?: Date;
  /** `comment`, when present. */
  comment?: string;
  /** `created by`, when present. */
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
  /** Index into {@link TorrentMetadata.files}. */
  fileIndex: number;
  /** Offset inside the file. */
  fileOffset: number;
  /** Offset inside the piece. */
  pieceOffset: number;
  /** Bytes in this range. */
  length: number;
}

/** A parsed magnet link (what {@link parseMagnet} returns). */
export interface MagnetLink {
  /** v1 info-hash (20 bytes), absent for a v2-only (`urn:btmh:`) magnet. */
  infoHash?: Buffer;
  /** The v1 info-hash in lowercase hex. */
  infoHashHex?: string;
  /** v2 multihash (hex) from `urn:btmh:`, recognised but not supported for download yet. */
  v2Hash?: string;
  /** Display name (`dn`), a hint until the metadata arrives. */
  name?: string;
  /** Tracker URLs (`tr`), in order. */
  trackers: string[];
  /** Peer addresses (`x.pe`) to dial for the metadata. */
  peers: PeerAddress[];
  /** Web seed URLs (`ws`). */
  webSeeds: string[];
}
