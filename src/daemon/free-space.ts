import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DaemonError } from '../errors.js';

/** Free and total bytes of the file system holding `path` (`free-space`). */
export async function freeSpace(
  path: string,
): Promise<{ path: string; freeBytes: number; totalBytes: number }> {
  try {
    const stats = await statfs(resolve(path));
    return { path, freeBytes: stats.bavail * stats.bsize, totalBytes: stats.blocks * stats.bsize };
  } catch (error) {
    throw new DaemonError(
      'LODESTONE_ERR_DAEMON_TORRENT',
      `cannot read the free space of ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
