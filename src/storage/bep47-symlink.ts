import * as fsPromises from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StorageError } from '../errors.js';
import type { TorrentFile } from '../metainfo/types.js';
import { toStorageError } from './io-errors.js';
import type { PathGuard } from './path-guard.js';

/**
 * Creates the BEP 47 symlink of `file` at `linkPath`, along with the piece at its
 * position (like an empty file). Parsing left `target` null when the torrent's
 * target leaves the torrent's folder; such links are not created. The target
 * is checked again to lie strictly inside the torrent's folder, and written
 * relative ("../b/c": climbing first, then only descending), and the link is
 * only made when no symlink lies between that folder and the link's folder,
 * so following it can never leave the torrent's folder, whatever other links
 * it passes through. An existing entry at the link's path is left alone.
 * Where links cannot be made (EPERM on Windows without the privilege), the
 * link is skipped.
 */
export async function createTorrentSymlink(
  file: TorrentFile,
  root: string,
  linkPath: string,
  guard: PathGuard,
): Promise<void> {
  const target = file.symlink?.target;
  if (!target || file.path.length < 2) return;
  const folder = resolve(root, file.path[0]!);
  const targetPath = resolve(root, ...target);
  if (!isStrictlyInside(folder, targetPath) || !isStrictlyInside(folder, linkPath)) {
    throw new StorageError(
      `symlink ${JSON.stringify(file.path.join('/'))} points outside ${folder}`,
      'LODESTONE_ERR_UNSAFE_PATH',
    );
  }
  const parent = dirname(linkPath);
  try {
    await guard.makeFolders(parent);
    const [realParent, realFolder] = await Promise.all([
      fsPromises.realpath(parent),
      fsPromises.realpath(folder),
    ]);
    if (realParent !== join(realFolder, relative(folder, parent))) return;
    await fsPromises.symlink(relative(parent, targetPath), linkPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'EPERM' || code === 'ENOTSUP') return;
    throw toStorageError(error, linkPath, 'create');
  }
}

function isStrictlyInside(folder: string, path: string): boolean {
  const inside = relative(folder, path);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}
