import type { Bitfield } from '../bitfield.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { PiecePicker } from '../policy/piece-picker.js';
import { ReadCache } from '../storage/read-cache.js';
import type { ReadCacheBudget } from '../storage/read-cache-budget.js';
import type { Storage } from '../storage/types.js';
import { Downloader } from './downloader.js';
import { type FileChoice, piecePriorities, sequentialFirstPieces } from './file-selection.js';
import { maxPartialPieces, pieceBufferBytes } from './memory-bounds.js';
import type { PeerState } from './peer-state.js';
import { PieceAssembler } from './piece-assembler.js';
import { Uploader } from './uploader.js';

/** What a torrent moves pieces with, once its files are checked. */
export interface TorrentTransfer {
  picker: PiecePicker;
  assembler: PieceAssembler;
  downloader: Downloader;
  cache: ReadCache;
  uploader: Uploader;
}

/** What the transfer is built from. */
export interface TorrentTransferInput {
  meta: TorrentMetadata;
  storage: Storage;
  /** The pieces verified by the start-up check. */
  have: Bitfield;
  files: readonly FileChoice[];
  sequential: boolean;
  /** RAM for piece data being downloaded (half for partial pieces, half for pending writes). */
  memoryBudget: number;
  readCacheBudget: ReadCacheBudget | undefined;
  /** The session's connected peers. */
  peers: Map<string, PeerState>;
}

/** The picker, assembler, downloader, read cache and uploader of one torrent, wired together. */
export function createTransfer(input: TorrentTransferInput): TorrentTransfer {
  const { meta, storage, have, files, memoryBudget } = input;
  const picker = new PiecePicker({
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    totalLength: meta.totalLength,
    random: Math.random,
    have,
    // Partial pieces live in RAM until verified: bound them by bytes, not count.
    maxPartialPieces: maxPartialPieces(memoryBudget, meta.pieceLength),
    piecePriorities: piecePriorities(meta, files),
    sequential: input.sequential,
    sequentialFirst: sequentialFirstPieces(meta, files),
  });
  const assembler = new PieceAssembler(meta, storage, { spareBytes: pieceBufferBytes(memoryBudget) });
  const downloader = new Downloader(meta, picker, assembler, input.peers, {
    pendingWriteLimit: memoryBudget / 2,
  });
  const budget = input.readCacheBudget;
  const cache = new ReadCache(storage, meta, budget ? { budget } : {});
  const uploader = new Uploader(meta, cache, () => picker.haveBitfield);
  return { picker, assembler, downloader, cache, uploader };
}
