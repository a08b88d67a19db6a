import { Bitfield } from '../bitfield.js';
import { LodestoneError, StorageError } from '../errors.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { HashPool } from './hasher.js';
import type { CheckProgress, Storage } from './types.js';

export interface CheckOptions {
  /** Called after each piece is decided (valid or not). */
  onProgress?(progress: CheckProgress): void;
  /** Aborting rejects with LODESTONE_ERR_ABORTED once the pieces in flight settle. */
  signal?: AbortSignal;
  /** Pieces read and hashed at once; memory is about concurrency × pieceLength. @default 4 */
  concurrency?: number;
  /**
   * Only these pieces are read and hashed (the others count as not valid, with no I/O): what a
   * resume record left in doubt. @default every piece
   */
  pieces?: { has(index: number): boolean };
}

export type CheckMetadata = Pick<
  TorrentMetadata,
  'pieceCount' | 'pieceLength' | 'totalLength' | 'pieceHashes'
>;

/**
 * Resume check: which pieces already on disk match their SHA-1.
 *
 * Pieces are read and hashed a few at a time (bounded memory, hashing spread
 * over the pool's workers). A piece the storage says it cannot have (file
 * missing or too short, via `mayHavePiece`) is skipped without reading, and
 * a storage with no data at all (`hasAnyData`) skips the loop, so checking a
 * fresh download costs a stat per file. A read error (missing or
 * truncated file) means "not valid", never a failed check; hashing errors do
 * fail it, since they say nothing about the data.
 */
export async function checkExisting(
  meta: CheckMetadata,
  storage: Storage,
  hashPool: Pick<HashPool, 'hash'>,
  options: CheckOptions = {},
): Promise<Bitfield> {
  const { pieceCount } = meta;
  const valid = new Bitfield(pieceCount);
  const progress: CheckProgress = { checked: 0, valid: 0, total: pieceCount };
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  const signal = options.signal;
  let next = 0;

  const throwIfAborted = () => {
    if (signal?.aborted)
      throw new StorageError('check aborted', 'LODESTONE_ERR_ABORTED', { cause: signal.reason });
  };

  /**
   * `lane.buffer`: the lane's own piece buffer, reused for every piece it reads
   * (when the storage can read into it): a fresh buffer per piece churns the heap.
   */
  const checkPiece = async (index: number, lane: { buffer?: Buffer }): Promise<boolean> => {
    if (options.pieces && !options.pieces.has(index)) return false;
    if (storage.mayHavePiece && !(await storage.mayHavePiece(index))) return false;
    const size = Math.min(meta.pieceLength, meta.totalLength - index * meta.pieceLength);
    let data: Buffer;
    try {
      if (storage.readInto) {
        lane.buffer ??= Buffer.allocUnsafeSlow(meta.pieceLength);
        data = lane.buffer.subarray(0, size);
        await storage.readInto(index, 0, data);
      } else {
        data = await storage.read(index, 0, size);
      }
    } catch (error) {
      if (error instanceof LodestoneError && error.code === 'LODESTONE_ERR_STORAGE') return false;
      throw error;
    }
    throwIfAborted();
    const digest = await hashPool.hash([data]);
    return digest.equals(meta.pieceHashes.subarray(index * 20, index * 20 + 20));
  };

  // Each lane takes the next unchecked piece, so at most `concurrency` pieces are in memory.
  const lane = async (): Promise<void> => {
    const state: { buffer?: Buffer } = {};
    while (next < pieceCount) {
      throwIfAborted();
      const index = next++;
      if (await checkPiece(index, state)) {
        valid.set(index);
        progress.valid++;
      }
      progress.checked++;
      options.onProgress?.({ ...progress });
    }
  };

  throwIfAborted();
  if (storage.hasAnyData && !(await storage.hasAnyData())) {
    options.onProgress?.({ checked: pieceCount, valid: 0, total: pieceCount });
    return valid;
  }
  const lanes = Array.from({ length: Math.min(concurrency, Math.max(1, pieceCount)) }, lane);
  const results = await Promise.allSettled(lanes);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return valid;
}
