import { Bitfield } from '../bitfield.js';
import { FileLayout, type LayoutMetadata } from './file-layout.js';
import type { ResumeFileState, ResumeRecord } from './resume-record.js';

/** What to do with each piece at start, given a resume record and the files as they are now. */
export interface ResumePlan {
  /** Pieces taken as verified without hashing: in the record, every file they touch unchanged. */
  trusted: Bitfield;
  /** Pieces to read and hash: they touch a file that changed, is missing, or was not recorded. */
  recheck: Bitfield;
  /** Indices of the files that changed since the record (size or mtime differ, or missing now). */
  changedFiles: number[];
}

function sameState(recorded: ResumeFileState, now: ResumeFileState): boolean {
  return (
    recorded !== undefined &&
    now !== undefined &&
    recorded.size === now.size &&
    recorded.mtimeNs === now.mtimeNs
  );
}

/**
 * Decides which pieces a record lets us trust. A file is unchanged when it exists now with the
 * size and modification time the record saw (padding files always are; they are never on disk).
 * A piece whose files are all unchanged is trusted when the record has it, and is simply missing
 * (not hashed) when it does not: its bytes cannot have changed since we last knew it was not
 * complete, or the mtime would differ. Every other piece is re-checked. A file missing now is
 * "changed" even when it was missing then, so the record can never vouch for bytes that are not
 * there.
 *
 * The limit: a file rewritten behind our back with the same size within the same mtime tick
 * (nanoseconds in the API, the file system's timestamp granularity in fact) looks unchanged, as in
 * libtorrent and Transmission.
 */
export function planResume(
  meta: LayoutMetadata,
  record: Pick<ResumeRecord, 'have' | 'files'>,
  current: readonly ResumeFileState[],
): ResumePlan {
  const layout = new FileLayout(meta);
  const unchanged = meta.files.map(
    (file, index) =>
      file.padding === true || file.length === 0 || sameState(record.files[index], current[index]),
  );
  const changedFiles: number[] = [];
  for (let index = 0; index < unchanged.length; index++) if (!unchanged[index]) changedFiles.push(index);
  const trusted = new Bitfield(meta.pieceCount);
  const recheck = new Bitfield(meta.pieceCount);
  for (let piece = 0; piece < meta.pieceCount; piece++) {
    const clean = layout.ranges(piece).every((range) => unchanged[range.fileIndex]);
    if (!clean) recheck.set(piece);
    else if (record.have.has(piece)) trusted.set(piece);
  }
  return { trusted, recheck, changedFiles };
}
