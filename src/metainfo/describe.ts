/**
 * Plain, JSON-ready summaries of a torrent or magnet for `lodestone info`. Absent
 * optional fields are `null`, so the shape is the same for every torrent.
 */
import { formatAddress } from '../address.js';
import { type RenamedFile, renamedFiles } from './file-names.js';
import { toMagnetUri } from './magnet.js';
import type { MagnetLink, TorrentMetadata } from './types.js';

export interface TorrentDescription {
  name: string;
  infoHash: string;
  totalLength: number;
  pieceCount: number;
  pieceLength: number;
  private: boolean;
  /** Announce tiers (BEP 12), in order. */
  trackers: string[][];
  webSeeds: string[];
  /**
   * Real files only: BEP 47 padding files and symlinks are left out. Paths are joined with "/".
   * `index` is the file's position in the torrent's file list (`TorrentMetadata.files`, padding
   * included): what `lodestone download --files` and `FileChoice` lists count.
   */
  files: { index: number; path: string; length: number }[];
  /** Files whose names were rewritten (sanitised, duplicates, long names), original → used. */
  renamedFiles: RenamedFile[];
  /**
   * BEP 47 symlinks: `target` from the download folder (like `path`), or null when
   * the torrent's target (`originalTarget`, from the torrent's folder) leaves the
   * torrent's folder and the link is not created.
   */
  symlinks: { path: string; target: string | null; originalTarget: string }[];
  creationDate: string | null;
  comment: string | null;
  createdBy: string | null;
  version: 'v1' | 'hybrid';
  magnet: string;
  /** What was accepted despite being unusual (e.g. bytes after the torrent), as in TorrentMetadata.warnings. */
  warnings: { code: string; message: string }[];
}

export interface MagnetDescription {
  infoHash: string | null;
  v2Hash: string | null;
  name: string | null;
  trackers: string[];
  webSeeds: string[];
  /** "1.2.3.4:5" / "[::1]:5" */
  peers: string[];
}

export function describeTorrent(meta: TorrentMetadata): TorrentDescription {
  return {
    name: meta.name,
    infoHash: meta.infoHashHex,
    totalLength: meta.totalLength,
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    private: meta.private,
    trackers: meta.announceTiers.map((tier) => [...tier]),
    webSeeds: [...meta.webSeeds],
    files: meta.files.flatMap((file, index) =>
      file.padding || file.symlink ? [] : [{ index, path: file.path.join('/'), length: file.length }],
    ),
    renamedFiles: renamedFiles(meta),
    symlinks: meta.files.flatMap((file) =>
      file.symlink
        ? [
            {
              path: file.path.join('/'),
              target: file.symlink.target?.join('/') ?? null,
              originalTarget: file.symlink.original.join('/'),
            },
          ]
        : [],
    ),
    creationDate: meta.creationDate?.toISOString() ?? null,
    comment: meta.comment ?? null,
    createdBy: meta.createdBy ?? null,
    version: meta.version,
    magnet: toMagnetUri(meta),
    warnings: (meta.warnings ?? []).map(({ code, message }) => ({ code, message })),
  };
}

export function describeMagnet(link: MagnetLink): MagnetDescription {
  return {
    infoHash: link.infoHashHex ?? link.infoHash?.toString('hex') ?? null,
    v2Hash: link.v2Hash ?? null,
    name: link.name ?? null,
    trackers: [...link.trackers],
    webSeeds: [...link.webSeeds],
    peers: link.peers.map(formatAddress),
  };
}
