/**
 * File selection: which files of a torrent to download and in what order,
 * turned into what the picker works with (a priority per piece). Pure.
 */
import type { Bitfield } from '../bitfield.js';
import { LodestoneError } from '../errors.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { PiecePriority } from '../policy/piece-picker.js';

/** A file's download priority: high files' pieces are started before normal ones, normal before low. */
export type FilePriority = 'low' | 'normal' | 'high';

/** What to do with one file of a torrent. */
export interface FileChoice {
  /** Download the file. Unwanted files are not requested (pieces they share with wanted files are). */
  wanted: boolean;
  /** Order among wanted files. */
  priority: FilePriority;
}

const RANK: Record<FilePriority, PiecePriority> = { low: 1, normal: 2, high: 3 };

/** Every file wanted, normal priority: the default selection. */
export function allFilesWanted(meta: TorrentMetadata): FileChoice[] {
  return meta.files.map(() => ({ wanted: true, priority: 'normal' }));
}

/** Checks a selection against the torrent: one choice per file, known priorities. */
export function checkFileChoices(meta: TorrentMetadata, choices: readonly FileChoice[]): void {
  if (choices.length !== meta.files.length) {
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      `${choices.length} file choices for a torrent of ${meta.files.length} files`,
    );
  }
  for (const [index, choice] of choices.entries()) {
    if (typeof choice?.wanted !== 'boolean' || !Object.hasOwn(RANK, choice.priority)) {
      throw new LodestoneError(
        'LODESTONE_ERR_USAGE',
        `file choice ${index} must be { wanted: boolean, priority: 'low' | 'normal' | 'high' }`,
      );
    }
  }
}

/** Whether file `index` counts as wanted (padding files follow their neighbours: they hold no data). */
function isWanted(meta: TorrentMetadata, choices: readonly FileChoice[], index: number): boolean {
  return choices[index]!.wanted && !meta.files[index]!.padding;
}

/**
 * The picker's priority of each piece: the highest priority of the wanted files it touches,
 * 0 when it touches none (padding files do not make a piece wanted). O(pieces + files).
 */
export function piecePriorities(meta: TorrentMetadata, choices: readonly FileChoice[]): Uint8Array {
  const out = new Uint8Array(meta.pieceCount);
  for (const [index, file] of meta.files.entries()) {
    if (file.length === 0 || !isWanted(meta, choices, index)) continue;
    const rank = RANK[choices[index]!.priority];
    const [first, last] = pieceSpan(meta, file.offset, file.length);
    for (let piece = first; piece <= last; piece++) if (out[piece]! < rank) out[piece] = rank;
  }
  return out;
}

/**
 * Sequential mode's head start: the first and the last piece of each wanted file (a media
 * player reads a file's header first and often its index at the end).
 */
export function sequentialFirstPieces(meta: TorrentMetadata, choices: readonly FileChoice[]): number[] {
  const out: number[] = [];
  for (const [index, file] of meta.files.entries()) {
    if (file.length === 0 || !isWanted(meta, choices, index)) continue;
    const [first, last] = pieceSpan(meta, file.offset, file.length);
    out.push(first);
    if (last !== first) out.push(last);
  }
  return out;
}

/** Bytes of the wanted files (padding excluded). */
export function wantedBytes(meta: TorrentMetadata, choices: readonly FileChoice[]): number {
  let total = 0;
  for (const [index, file] of meta.files.entries()) if (isWanted(meta, choices, index)) total += file.length;
  return total;
}

/** Bytes of the wanted files, and whether every file is wanted (then they are the torrent's length). */
export function wantedSummary(
  meta: TorrentMetadata,
  choices: readonly FileChoice[],
): { bytes: number; all: boolean } {
  const all = meta.files.every((_file, index) => isWanted(meta, choices, index));
  return { bytes: all ? meta.totalLength : wantedBytes(meta, choices), all };
}

/**
 * Verified bytes per file: the bytes of each file that lie in verified pieces. O(pieces touched).
 */
export function fileProgress(meta: TorrentMetadata, have: Bitfield): number[] {
  return meta.files.map((file) => {
    if (file.length === 0) return 0;
    const [first, last] = pieceSpan(meta, file.offset, file.length);
    let bytes = 0;
    for (let piece = first; piece <= last; piece++) {
      if (!have.has(piece)) continue;
      const start = Math.max(file.offset, piece * meta.pieceLength);
      const end = Math.min(file.offset + file.length, (piece + 1) * meta.pieceLength);
      bytes += end - start;
    }
    return bytes;
  });
}

/** Verified bytes of the wanted files. */
export function wantedVerifiedBytes(
  meta: TorrentMetadata,
  choices: readonly FileChoice[],
  progress: readonly number[],
): number {
  let total = 0;
  for (const [index, bytes] of progress.entries()) if (isWanted(meta, choices, index)) total += bytes;
  return total;
}

/** First and last piece of a non-empty byte span. */
function pieceSpan(meta: TorrentMetadata, offset: number, length: number): [number, number] {
  return [Math.floor(offset / meta.pieceLength), Math.floor((offset + length - 1) / meta.pieceLength)];
}
