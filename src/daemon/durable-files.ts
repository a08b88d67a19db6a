/**
 * Durable writes of a new torrent's files with as few fsyncs in a row as possible (issue 18: an add
 * over RPC did four one after the other). A new torrent's `.torrent` and state file are written,
 * then the two files and their folder are fsync'd at the same time (one round of fsyncs); the
 * folder's fsync is shared by the adds that wrote their files meanwhile (a group commit).
 */
import * as fs from 'node:fs/promises';
import { syncFolder } from '../storage/atomic-file.js';

/** A file written and still open, not yet fsync'd. */
export interface WrittenFile {
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** The file-system calls the writes need (tests count and order them). */
export interface DurableOps {
  /** Creates or truncates `path` and writes `data`; the file stays open for its fsync. */
  write(path: string, data: string | Uint8Array): Promise<WrittenFile>;
  /** fsyncs the folder (its entries: names created, renamed, removed). */
  syncFolder(dir: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const nodeDurableOps: DurableOps = {
  async write(path, data) {
    const handle = await fs.open(path, 'w', 0o600);
    try {
      await handle.writeFile(data);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return { sync: () => handle.sync(), close: () => handle.close() };
  },
  syncFolder,
  remove: (path) => fs.rm(path, { force: true }),
};

/**
 * fsyncs of one folder, shared (a group commit): `sync()` resolves after an fsync of the folder
 * that began after the call, so whatever the caller changed in the folder before calling is
 * durable then. Calls made while an fsync runs share the next one: N adds arriving together cost
 * two folder fsyncs, not N.
 */
export class FolderSync {
  readonly dir: string;
  readonly #sync: (dir: string) => Promise<void>;
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #count = 0;

  constructor(dir: string, sync: (dir: string) => Promise<void> = nodeDurableOps.syncFolder) {
    this.dir = dir;
    this.#sync = sync;
  }

  /** fsyncs begun so far. */
  get count(): number {
    return this.#count;
  }

  sync(): Promise<void> {
    if (this.#running === undefined) return this.#start();
    // The running fsync may have begun before the caller's changes: wait for the next one.
    this.#next ??= this.#running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    return this.#next;
  }

  #start(): Promise<void> {
    this.#count++;
    const running: Promise<void> = this.#sync(this.dir).finally(() => {
      if (this.#running === running) this.#running = undefined;
    });
    this.#running = running;
    return running;
  }
}

/**
 * Writes new files in one folder durably with one round of fsyncs: every file written, then the
 * files and the folder fsync'd at the same time (the folder's fsync, begun after every name
 * exists, is shared with concurrent callers). On failure what was written is removed (best
 * effort) and the error thrown. Crash-safe for files nobody reads before the promise resolves: a
 * crash before then may leave a partial file, never a reported success.
 */
export async function writeNewFilesDurably(
  files: readonly { path: string; data: string | Uint8Array }[],
  folder: FolderSync,
  ops: DurableOps = nodeDurableOps,
): Promise<void> {
  const written = await Promise.allSettled(files.map((file) => ops.write(file.path, file.data)));
  const open = written.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  let failure: unknown;
  const failed = written.find((result) => result.status === 'rejected');
  if (failed !== undefined) failure = (failed as PromiseRejectedResult).reason;
  else {
    try {
      await Promise.all([...open.map((file) => file.sync()), folder.sync()]);
    } catch (error) {
      failure = error;
    }
  }
  await Promise.all(open.map((file) => file.close().catch(() => undefined)));
  if (failure === undefined) return;
  await Promise.all(files.map((file) => ops.remove(file.path).catch(() => undefined)));
  throw failure;
}
