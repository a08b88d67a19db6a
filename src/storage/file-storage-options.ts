import type { FileHandle } from 'node:fs/promises';
import type { HandleBudget } from './handle-budget.js';
import type { WriteThread } from './write-thread.js';

/** The few file-system calls FileStorage makes; tests swap them to simulate a full disk. */
export interface FileSystem {
  open(path: string, flags: string | number, mode?: number): Promise<FileHandle>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  stat(path: string): Promise<{ size: number }>;
}

export interface FileStorageOptions {
  /** Idle file handles this storage keeps open for reuse (an LRU). @default 32 */
  maxOpenFiles?: number;
  /**
   * The bound on files open at once, shared with other storages: every open file
   * takes a slot until it is closed, and an operation waits for a free slot.
   * @default sharedHandleBudget(): one per process, 128 files or a quarter of
   * the soft RLIMIT_NOFILE when that is lower
   */
  handleBudget?: HandleBudget;
  /** File-system implementation. @default node:fs/promises */
  fileSystem?: FileSystem;
  /**
   * The thread that writes pieces, by file descriptor; `false` writes
   * through the handles' own write()/writev() on the libuv pool.
   * @default the process-wide sharedWriteThread(), unless a custom
   * `fileSystem` is given (its handles need not have a real descriptor)
   */
  writeThread?: WriteThread | false;
  /**
   * The part file: where the bytes of wanted pieces that fall in unwanted files go (see
   * {@link FileStorage.setFileSelection}). @default `<root>/.<infohash hex>.parts`
   */
  partFile?: string;
}
