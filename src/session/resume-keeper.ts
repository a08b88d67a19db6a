import { Bitfield } from '../bitfield.js';
import { LodestoneError } from '../errors.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { FileLayout } from '../storage/file-layout.js';
import { planResume } from '../storage/resume-plan.js';
import { decodeResumeRecord, encodeResumeRecord, type ResumeRecord } from '../storage/resume-record.js';
import type { ResumeStore } from '../storage/resume-store.js';
import type { Storage } from '../storage/types.js';
import type { TorrentSessionOptions } from './session-types.js';

/** How a torrent started with respect to its resume record (the `resume` event). */
export interface ResumeStartInfo {
  /**
   * `used`: a record matched this torrent and folder; `none`: no record (or resume is off, or the
   * storage cannot give file states); `rejected`: a record was there but unusable (corrupted,
   * another torrent or layout): every piece was checked; `moved`: the record was for another
   * folder: every piece was checked.
   */
  record: 'used' | 'none' | 'rejected' | 'moved';
  /** Pieces taken as verified from the record, not hashed. */
  piecesTrusted: number;
  /** Pieces whose files changed since the record (or every piece without a usable record). */
  piecesToCheck: number;
  /** Files whose size or mtime differ from the record, or that are missing now. */
  filesChanged: number;
  /** Why a record was not used (`rejected`, `moved`). */
  reason?: string;
}

/** What a start needs: the trusted pieces, the pieces to hash (undefined: all), the totals before. */
export interface ResumeStart {
  info: ResumeStartInfo;
  trusted: Bitfield;
  recheck: Bitfield | undefined;
  uploadedBytes: number;
  downloadedBytes: number;
}

export interface ResumeKeeperOptions {
  meta: TorrentMetadata;
  storage: Storage;
  store: ResumeStore;
  /** The folder of the files (recorded; a record for another folder is not used). */
  savePath: string;
  /** Milliseconds since the epoch, for `saved-at` and the schedule. */
  now: () => number;
  /** Saves at most this often while pieces are verified. @default 30000 */
  saveIntervalMs?: number;
}

/** What a save records besides the pieces: the session's totals at that moment. */
export interface ResumeSnapshot {
  have: Bitfield;
  uploadedBytes: number;
  downloadedBytes: number;
}

/**
 * Reads a torrent's resume record at start and writes it back on a schedule, at completion and
 * at stop. The order of a save is the guarantee: the verified pieces are copied first (a piece is
 * verified only once its write has completed), then the files written since the last save are
 * fsynced, then the files are stat'ed, then the record is written atomically. So a record never
 * claims a piece whose bytes were not in the file, even after a power loss, and a file written
 * after the stat has a newer mtime, so it is re-checked at the next start. A file that received
 * a piece verified during the save is recorded as unknown (re-checked at the next start), so
 * the piece is hashed, not downloaded again. Saves never overlap.
 */
export class ResumeKeeper {
  readonly #options: ResumeKeeperOptions;
  readonly #interval: number;
  #dirty = false;
  #lastSaveAt: number;
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(options: ResumeKeeperOptions) {
    this.#options = options;
    this.#interval = options.saveIntervalMs ?? 30_000;
    this.#lastSaveAt = options.now();
  }

  /** Loads the record and compares it with the files. Never throws for a bad record. */
  async start(): Promise<ResumeStart> {
    const { meta, storage, store } = this.#options;
    const none = (info: Partial<ResumeStartInfo> & Pick<ResumeStartInfo, 'record'>): ResumeStart => ({
      info: { piecesTrusted: 0, piecesToCheck: meta.pieceCount, filesChanged: 0, ...info },
      trusted: new Bitfield(meta.pieceCount),
      recheck: undefined,
      uploadedBytes: 0,
      downloadedBytes: 0,
    });
    if (!storage.fileStates) return none({ record: 'none' });
    let record: ResumeRecord;
    try {
      const data = await store.load(meta.infoHashHex);
      if (data === undefined) return none({ record: 'none' });
      record = decodeResumeRecord(data, {
        infoHash: meta.infoHash,
        pieceCount: meta.pieceCount,
        pieceLength: meta.pieceLength,
        fileCount: meta.files.length,
      });
    } catch (error) {
      if (!(error instanceof LodestoneError)) throw error;
      return none({ record: 'rejected', reason: error.message });
    }
    if (record.savePath !== this.#options.savePath) {
      return none({ record: 'moved', reason: `the record is for ${record.savePath}` });
    }
    const plan = planResume(meta, record, await storage.fileStates());
    return {
      info: {
        record: 'used',
        piecesTrusted: plan.trusted.count,
        piecesToCheck: plan.recheck.count,
        filesChanged: plan.changedFiles.length,
      },
      trusted: plan.trusted,
      recheck: plan.recheck,
      uploadedBytes: record.uploadedBytes,
      downloadedBytes: record.downloadedBytes,
    };
  }

  /** A piece was verified (and written): the record is out of date. */
  changed(): void {
    this.#dirty = true;
  }

  /** Whether a scheduled save is due (something changed, the interval has passed). */
  due(): boolean {
    return this.#dirty && this.#options.now() - this.#lastSaveAt >= this.#interval;
  }

  /** A save is in flight. */
  get saving(): boolean {
    return this.#pending > 0;
  }

  /**
   * Saves now, after the save in flight if any (saves never overlap). `snapshot` is called when
   * this save begins, so it sees every piece verified up to then. Rejects with the store's or the
   * storage's error (the record is then marked out of date, so the schedule tries again).
   */
  save(snapshot: () => ResumeSnapshot): Promise<void> {
    const run = async (): Promise<void> => {
      this.#dirty = false;
      this.#lastSaveAt = this.#options.now();
      await this.#write(snapshot(), snapshot);
    };
    this.#pending++;
    const next = this.#chain.then(run).finally(() => this.#pending--);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #write(snapshot: ResumeSnapshot, again: () => ResumeSnapshot): Promise<void> {
    const { meta, storage, store } = this.#options;
    if (!storage.fileStates) return;
    const have = new Bitfield(meta.pieceCount, snapshot.have.bytes);
    try {
      await storage.sync?.();
      const files = await storage.fileStates();
      // Pieces verified while we synced and stat'ed are not in the record, but their writes may
      // be in the mtimes we just read: a restart would take those files as unchanged and those
      // pieces as missing, and download them again. Recording those files as unknown makes the
      // restart re-check them instead (hashing, not downloading).
      const later = again().have;
      const layout = new FileLayout(meta);
      for (let index = 0; index < meta.pieceCount; index++) {
        if (!later.has(index) || have.has(index)) continue;
        for (const range of layout.ranges(index)) files[range.fileIndex] = undefined;
      }
      const record: ResumeRecord = {
        infoHash: meta.infoHash,
        pieceCount: meta.pieceCount,
        pieceLength: meta.pieceLength,
        have,
        files,
        savePath: this.#options.savePath,
        uploadedBytes: snapshot.uploadedBytes,
        downloadedBytes: snapshot.downloadedBytes,
        savedAtMs: Math.max(0, Math.floor(this.#options.now())),
      };
      await store.save(meta.infoHashHex, encodeResumeRecord(record));
    } catch (error) {
      this.#dirty = true; // try again at the next tick
      throw error;
    }
  }
}

/** The keeper of a session's options: none without a resume store or a storage with file states. */
export function resumeKeeperFor(options: TorrentSessionOptions): ResumeKeeper | undefined {
  const { meta, storage, resume } = options;
  if (!resume || !storage.fileStates) return undefined;
  return new ResumeKeeper({
    meta,
    storage,
    store: resume,
    savePath: options.savePath ?? '',
    now: Date.now,
    ...(options.resumeSaveIntervalMs !== undefined ? { saveIntervalMs: options.resumeSaveIntervalMs } : {}),
  });
}
