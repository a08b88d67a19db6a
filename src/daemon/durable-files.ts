/**
 * Durable writes of a new torrent's files with as few fsyncs in a row as possible (issue 18: an add
 * over RPC did four one after the other). A new torrent's `.torrent` and state file are written
 * and fsync'd at the same time, then one fsync of the folder makes both names durable; the
 * folder's fsync is shared by every add that finished its writes meanwhile (a group commit).
 */
import * as fs from 'node:fs/promises';

/** The file-system calls the writes need (tests count and order them). */
export interface DurableOps {
  /** Creates or truncates `path`, writes `data`, fsyncs it and closes it. */
  writeSynced(path: string, data: string | Uint8Array): Promise<void>;
  /** fsyncs the folder (its entries: names created, renamed, removed). */
  syncFolder(dir: string): Promise<void>;
  remove(path: string): Promise<void>;
}

export const nodeDurableOps: DurableOps = {
  async writeSynced(path, data) {
    const handle = await fs.open(path, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async syncFolder(dir) {
    const folder = await fs.open(dir, 'r');
    try {
      await folder.sync();
    } catch (error) {
      // Some platforms cannot fsync a folder (EINVAL, EISDIR): nothing more can be done there.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
    } finally {
      await folder.close().catch(() => undefined);
    }
  },
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
 * Writes new files in one folder durably: each file written and fsync'd at the same time as the
 * others, then the folder fsync'd (shared with concurrent callers). On failure what was written is
 * removed (best effort) and the error thrown. Crash-safe for files nobody reads before the promise
 * resolves: a crash before then may leave a partial file, never a reported success.
 */
export async function writeNewFilesDurably(
  files: readonly { path: string; data: string | Uint8Array }[],
  folder: FolderSync,
  ops: DurableOps = nodeDurableOps,
): Promise<void> {
  const written = await Promise.allSettled(files.map((file) => ops.writeSynced(file.path, file.data)));
  const failed = written.find((result) => result.status === 'rejected');
  if (failed === undefined) {
    try {
      await folder.sync();
      return;
    } catch (error) {
      await removeAll(files, ops);
      throw error;
    }
  }
  await removeAll(files, ops);
  throw (failed as PromiseRejectedResult).reason;
}

async function removeAll(files: readonly { path: string }[], ops: DurableOps): Promise<void> {
  await Promise.all(files.map((file) => ops.remove(file.path).catch(() => undefined)));
}
