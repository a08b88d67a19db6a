import type { TorrentMetadata } from '../metainfo/types.js';
import type { Downloader } from './downloader.js';
import { type FileChoice, wantedVerifiedBytes } from './file-selection.js';
import type { PeerState } from './peer-state.js';
import type { SessionStats } from './session-types.js';
import type { Uploader } from './uploader.js';

/** What a torrent's stats are read from (the transfer parts exist once `start()` checked the files). */
export interface TorrentStatsSource {
  meta: TorrentMetadata;
  peers: ReadonlyMap<string, PeerState>;
  downloader: Downloader | undefined;
  uploader: Uploader | undefined;
  piecesVerified: number;
  knownPeers: number;
  pexLearned: number;
  /** Bytes of the wanted files, and whether every file is wanted. */
  wanted: { bytes: number; all: boolean };
  files: readonly FileChoice[];
  /** Verified bytes of each file (walked only when some file is unwanted). */
  fileProgress: () => number[];
}

/** A snapshot of a torrent's progress, rates and peers. */
export function torrentStats(source: TorrentStatsSource): SessionStats {
  const { meta, downloader, uploader, wanted } = source;
  let downloadRate = 0;
  let uploadRate = 0;
  let seeds = 0;
  for (const peer of source.peers.values()) {
    downloadRate += peer.connection.download.rate();
    uploadRate += peer.connection.upload.rate();
    if (peer.isSeed) seeds++;
  }
  const verifiedBytes = downloader?.verifiedBytes ?? 0;
  return {
    totalLength: meta.totalLength,
    verifiedBytes,
    downloadedBytes: downloader?.downloadedBytes ?? 0,
    uploadedBytes: uploader?.uploadedBytes ?? 0,
    wastedBytes: downloader?.wastedBytes ?? 0,
    piecesVerified: source.piecesVerified,
    pieceCount: meta.pieceCount,
    downloadRate,
    uploadRate,
    peers: source.peers.size,
    seeds,
    knownPeers: source.knownPeers,
    pexLearned: source.pexLearned,
    endgame: downloader?.inEndgame ?? false,
    wantedBytes: wanted.bytes,
    // With every file wanted (the usual case) that is every verified byte: no walk over the files.
    wantedVerifiedBytes: wanted.all
      ? verifiedBytes
      : wantedVerifiedBytes(meta, source.files, source.fileProgress()),
  };
}
