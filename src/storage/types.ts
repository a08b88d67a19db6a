import type { ResumeFileState } from './resume-record.js';

/**
 * Where verified pieces live. The session hands over whole pieces only after
 * their SHA-1 matched, so a Storage never holds unverified data as complete.
 */
export interface Storage {
  /** Creates folders and files on demand (files get their full length lazily). */
  open(): Promise<void>;
  /** Reads `length` bytes at `begin` of piece `index` (for uploading and re-checks). */
  read(index: number, begin: number, length: number): Promise<Buffer>;
  /**
   * Optional: reads `target.length` bytes at `begin` of piece `index` into
   * `target`, so a caller can reuse its buffers instead of getting a new one
   * per read. Fails like `read`.
   */
  readInto?(index: number, begin: number, target: Buffer): Promise<void>;
  /** Writes one verified piece, given as its blocks in order. */
  writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void>;
  /** Flushes and closes file handles. */
  close(): Promise<void>;
  /**
   * Optional fast path for resume checks: `false` when piece `index` certainly
   * holds no valid data (a file it needs is missing or too short), so a check
   * can skip reading and hashing it. `true` means "read it to find out".
   */
  mayHavePiece?(index: number): Promise<boolean>;
  /**
   * Optional fast path for a fresh download: `false` when the torrent has no
   * data at all here yet (no file exists with a byte in it), so a resume
   * check can skip every piece at once. `true` means "check piece by piece".
   */
  hasAnyData?(): Promise<boolean>;
  /**
   * Optional: makes the entries that hold no bytes (empty files, BEP 47 symlinks) of the pieces
   * already verified, as `writePiece` makes them for pieces it writes. A resumed download or a
   * seed whose data was complete writes no piece, so without this such entries would never
   * appear. Existing entries are left alone.
   */
  createEntriesOf?(have: { has(index: number): boolean }): Promise<void>;
  /**
   * Optional, for resume records: flushes to stable storage (fsync) every file written since the
   * last call. A storage without it gives no guarantee beyond the OS page cache.
   */
  sync?(): Promise<void>;
  /**
   * Optional, for resume records: size and modification time of each file as it is now
   * (`undefined`: missing). A storage without it gets no resume records.
   */
  fileStates?(): Promise<ResumeFileState[]>;
  /**
   * Optional: which files are wanted (one flag per file). A storage that supports it creates no
   * unwanted file and keeps the bytes of wanted pieces that fall in one elsewhere (FileStorage:
   * the part file). Reads and writes issued after the call see the new selection.
   */
  setFileSelection?(wanted: readonly boolean[]): Promise<void>;
}

export interface CheckProgress {
  checked: number;
  valid: number;
  total: number;
}
