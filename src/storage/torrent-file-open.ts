import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { isMissingFile } from './io-errors.js';
import type { PathGuard } from './path-guard.js';

/** Read-write, created if missing, never truncated (unlike 'w+', which would race a concurrent open). */
export const OPEN_OR_CREATE = constants.O_RDWR | constants.O_CREAT;

/**
 * Opens a torrent's file: read-only for reads (seeding from read-only media
 * works), read-write for writes, creating folders and the file on first
 * write and extending it to its full length (never shrinking it). Every
 * open goes through the PathGuard: nothing is opened, and no folder made,
 * through a symlink that leads outside `root`.
 */
export async function openTorrentFile(
  guard: PathGuard,
  path: string,
  writable: boolean,
  file: { knownMissing: boolean; length: number; mode: number },
): Promise<FileHandle> {
  if (!writable) return guard.open(path, constants.O_RDONLY, undefined, false);
  let handle: FileHandle | undefined;
  // Known missing (the resume check found no file): create it without trying to open it first.
  if (!file.knownMissing) {
    try {
      handle = await guard.open(path, constants.O_RDWR, undefined, false);
    } catch (error) {
      if (!isMissingFile(error)) throw error;
    }
  }
  handle ??= await guard.open(path, OPEN_OR_CREATE, file.mode, true);
  try {
    const expected = file.length;
    const { size } = await handle.stat();
    if (size < expected) await handle.truncate(expected);
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
  return handle;
}
