import type { EventEmitter } from 'node:events';
import { LodestoneError } from '../errors.js';
import type { ResumeKeeper, ResumeSnapshot } from './resume-keeper.js';
import type { TorrentSessionEvents } from './session-types.js';

/**
 * When a torrent writes its resume record: after a verified piece once the interval has passed,
 * at completion and at stop. A failed write is a `resume-warning`, never a failure of the torrent.
 */
export class TorrentResume {
  readonly #events: EventEmitter<TorrentSessionEvents>;
  /** This run's verified pieces and totals. */
  readonly #snapshot: () => ResumeSnapshot;
  readonly #internalError: (error: unknown) => void;
  /** Writes the record; set once the start-up check is over (no record of a half check). */
  #keeper: ResumeKeeper | undefined;
  /** Upload and download totals of earlier sessions, from the resume record. */
  #earlier = { uploadedBytes: 0, downloadedBytes: 0 };

  constructor(
    events: EventEmitter<TorrentSessionEvents>,
    snapshot: () => ResumeSnapshot,
    internalError: (error: unknown) => void,
  ) {
    this.#events = events;
    this.#snapshot = snapshot;
    this.#internalError = internalError;
  }

  /** The start-up check is over: saves go through `keeper`, adding the earlier runs' totals. */
  begin(keeper: ResumeKeeper | undefined, earlier: { uploadedBytes: number; downloadedBytes: number }): void {
    this.#keeper = keeper;
    this.#earlier = earlier;
  }

  /** A piece was verified: the record is out of date. */
  changed(): void {
    this.#keeper?.changed();
  }

  /** Saves when the interval has passed since the last save and none is under way. */
  saveIfDue(): void {
    if (this.#keeper?.due() && !this.#keeper.saving) this.save().catch((error) => this.#internalError(error));
  }

  /** Writes the resume record now (nothing before the start-up check is over). */
  async save(): Promise<void> {
    const keeper = this.#keeper;
    if (!keeper) return;
    try {
      await keeper.save(() => {
        const run = this.#snapshot();
        return {
          have: run.have,
          uploadedBytes: this.#earlier.uploadedBytes + run.uploadedBytes,
          downloadedBytes: this.#earlier.downloadedBytes + run.downloadedBytes,
        };
      });
    } catch (error) {
      if (!(error instanceof LodestoneError)) this.#internalError(error);
      const message = error instanceof Error ? error.message : String(error);
      this.#events.emit('resume-warning', { message: `could not write the resume record: ${message}` });
    }
  }
}
