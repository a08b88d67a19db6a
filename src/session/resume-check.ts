import { Bitfield } from '../bitfield.js';
import { checkExisting } from '../storage/check.js';
import type { HashPool } from '../storage/hasher.js';
import type { CheckProgress, Storage } from '../storage/types.js';
import type { ResumeKeeper, ResumeStartInfo } from './resume-keeper.js';
import type { TorrentSessionOptions } from './session-types.js';

/** The outcome of the start-up check, with or without a resume record. */
export interface StartCheck {
  have: Bitfield;
  /** Pieces read and hashed by this check. */
  piecesHashed: number;
  /** Undefined when the session keeps no records. */
  resume: (ResumeStartInfo & { piecesHashed: number }) | undefined;
  /** Totals of the earlier sessions, from the record (0 without one). */
  uploadedBytes: number;
  downloadedBytes: number;
}

/**
 * What is on disk at start: with a usable record, its trusted pieces plus a check of the pieces
 * whose files changed; without one, the full check (`checkExisting`) as always. `checkExisting:
 * false` in the options assumes nothing is there.
 */
export async function checkAtStart(
  options: Pick<TorrentSessionOptions, 'meta' | 'checkExisting'>,
  storage: Storage,
  hashPool: Pick<HashPool, 'hash'>,
  keeper: ResumeKeeper | undefined,
  onProgress: (progress: CheckProgress) => void,
): Promise<StartCheck> {
  const { meta } = options;
  if (options.checkExisting === false) {
    return {
      have: new Bitfield(meta.pieceCount),
      piecesHashed: 0,
      resume: undefined,
      uploadedBytes: 0,
      downloadedBytes: 0,
    };
  }
  let piecesHashed = 0;
  const counting = {
    hash: (data: Parameters<HashPool['hash']>[0]) => {
      piecesHashed++;
      return hashPool.hash(data);
    },
  };
  const start = keeper ? await keeper.start() : undefined;
  const trusted = start?.trusted ?? new Bitfield(meta.pieceCount);
  let have: Bitfield;
  if (start?.recheck && start.recheck.count === 0) {
    have = trusted;
    onProgress({ checked: meta.pieceCount, valid: trusted.count, total: meta.pieceCount });
  } else {
    have = await checkExisting(meta, storage, counting, {
      ...(start?.recheck ? { pieces: start.recheck } : {}),
      onProgress: (p) => onProgress({ ...p, valid: p.valid + trusted.count }),
    });
    for (let index = 0; index < meta.pieceCount; index++) if (trusted.has(index)) have.set(index);
  }
  return {
    have,
    piecesHashed,
    resume: start ? { ...start.info, piecesHashed } : undefined,
    uploadedBytes: start?.uploadedBytes ?? 0,
    downloadedBytes: start?.downloadedBytes ?? 0,
  };
}
