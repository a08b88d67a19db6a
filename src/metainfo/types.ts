import type { PeerAddress } from '../address.js';

/** One file of a torrent, placed in the concatenated byte stream of all files. */
export interface TorrentFile {
  /** Safe path components relative to the download folder (first is the torrent name for multi-file). */
  path: string[];
  /** Size in bytes. */
  length: number;
  /** Offset of the file's first byte in the concatenated stream. */
  offset: number;
  /** BEP 47 padding file (`attr` contains `p`): never written to disk. */
  padding: boolean;
}

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
