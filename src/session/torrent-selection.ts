import type { TorrentMetadata } from '../metainfo/types.js';
import type { PiecePicker } from '../policy/piece-picker.js';
import type { Storage } from '../storage/types.js';
import {
  allFilesWanted,
  checkFileChoices,
  type FileChoice,
  piecePriorities,
  sequentialFirstPieces,
  wantedSummary,
} from './file-selection.js';

/**
 * A torrent's file selection (one choice per file) and sequential mode, and what follows them:
 * the picker's priorities once there is a picker, the storage's wanted files once it is open.
 */
export class TorrentSelection {
  readonly #meta: TorrentMetadata;
  #files: readonly FileChoice[];
  #sequential: boolean;
  /** Derived from `#files`, kept with it: bytes of the wanted files, and whether every file is wanted. */
  #wanted: { bytes: number; all: boolean };
  #picker: PiecePicker | undefined;
  /** Set once the storage has been told the selection (at start, after open): changes tell it too. */
  #storage: Storage | undefined;

  /** Throws a LodestoneError (LODESTONE_ERR_USAGE) for a list that does not match the files. */
  constructor(
    meta: TorrentMetadata,
    files: readonly FileChoice[] | undefined,
    sequential: boolean | undefined,
  ) {
    this.#meta = meta;
    if (files) checkFileChoices(meta, files);
    this.#files = files ? [...files] : allFilesWanted(meta);
    this.#wanted = wantedSummary(meta, this.#files);
    this.#sequential = sequential ?? false;
  }

  get files(): readonly FileChoice[] {
    return this.#files;
  }

  get sequential(): boolean {
    return this.#sequential;
  }

  /** Bytes of the wanted files, and whether every file is wanted. */
  get wanted(): { bytes: number; all: boolean } {
    return this.#wanted;
  }

  /** Tells the opened storage which files are wanted, now and at every change after. */
  async tellStorage(storage: Storage): Promise<void> {
    this.#storage = storage;
    await storage.setFileSelection?.(this.#files.map((choice) => choice.wanted));
  }

  /** The picker the selection steers from now on (made with the selection's priorities). */
  steer(picker: PiecePicker): void {
    this.#picker = picker;
  }

  /**
   * Changes the choices (throws LODESTONE_ERR_USAGE for a list that does not match the files);
   * a storage that fails to take them reports to `onStorageError`. Returns the picker it
   * re-prioritised, undefined before there is one.
   */
  set(choices: readonly FileChoice[], onStorageError: (error: unknown) => void): PiecePicker | undefined {
    checkFileChoices(this.#meta, choices);
    this.#files = choices.map((choice) => ({ wanted: choice.wanted, priority: choice.priority }));
    this.#wanted = wantedSummary(this.#meta, this.#files);
    this.#storage?.setFileSelection?.(this.#files.map((choice) => choice.wanted)).catch(onStorageError);
    if (!this.#picker) return undefined;
    this.#picker.setPiecePriorities(
      piecePriorities(this.#meta, this.#files),
      sequentialFirstPieces(this.#meta, this.#files),
    );
    return this.#picker;
  }

  /** Sequential download on or off, at once for the pieces started next. */
  setSequential(on: boolean): void {
    this.#sequential = on;
    this.#picker?.setSequential(on, sequentialFirstPieces(this.#meta, this.#files));
  }
}
