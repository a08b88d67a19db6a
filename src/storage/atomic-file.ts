/** Atomic file writes (resume records, the daemon's state files): a temporary file, fsync, rename, fsync the folder. */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces `path` with `data`: after a crash the old or the new file is there, whole. The folder
 * is created when missing.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await fs.open(temporary, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
  // The rename is done: a folder that cannot be fsync'd (or opened) leaves nothing more to do.
  await syncFolder(dir).catch(() => undefined);
}

/**
 * fsyncs a folder (its entries: names created, renamed, removed). Platforms that cannot fsync a
 * folder (EINVAL, EISDIR, EPERM) make it a no-op; other errors are thrown.
 */
export async function syncFolder(dir: string): Promise<void> {
  const folder = await fs.open(dir, 'r');
  try {
    await folder.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await folder.close().catch(() => undefined);
  }
}

/** The file's text, or `undefined` when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
