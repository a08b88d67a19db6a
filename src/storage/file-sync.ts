import * as fs from 'node:fs/promises';
import { isMissingFile, toStorageError } from './io-errors.js';
import type { ResumeFileState } from './resume-record.js';

/**
 * fsyncs one file by path (any descriptor of the file flushes its dirty pages). A file that is
 * gone has nothing to flush. Fails with a StorageError.
 */
export async function syncFile(path: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    if (isMissingFile(error)) return;
    throw toStorageError(error, path, 'write');
  }
  try {
    await handle.sync();
  } catch (error) {
    throw toStorageError(error, path, 'write');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Size and nanosecond mtime of a file, or undefined when it is missing or cannot be read. */
export async function fileState(path: string): Promise<ResumeFileState> {
  try {
    const stats = await fs.stat(path, { bigint: true });
    if (!stats.isFile()) return undefined;
    return { size: Number(stats.size), mtimeNs: stats.mtimeNs };
  } catch {
    return undefined;
  }
}
