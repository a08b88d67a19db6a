/**
 * A torrent's own files on disk: delete them (remove with data) or move them (setLocation with
 * `move`). Only the torrent's files and the folders they leave empty are touched, and only
 * inside the download folder: a path that escapes it (through `..` or a planted symlinked
 * folder) is refused before anything is deleted or moved.
 */
import * as fs from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DaemonError } from '../errors.js';
import { resolveInside } from '../metainfo/path-safety.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { isInsideOrSame } from '../storage/path-guard.js';

function refuse(message: string): DaemonError {
  return new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', message);
}

async function realOrSelf(path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch {
    return path;
  }
}

/** The torrent's file paths inside `root` (padding files excluded), each checked to stay inside. */
export async function ownPaths(root: string, meta: Pick<TorrentMetadata, 'files'>): Promise<string[]> {
  const base = resolve(root);
  const realBase = await realOrSelf(base);
  const paths: string[] = [];
  for (const file of meta.files) {
    if (file.padding) continue;
    let path: string;
    try {
      path = resolveInside(base, file.path);
    } catch (error) {
      throw refuse(`refused: ${(error as Error).message}`);
    }
    // The folder holding it, as the file system resolves it, must still be inside the root.
    const realParent = await realOrSelf(dirname(path));
    if (!isInsideOrSame(realBase, realParent))
      throw refuse(`refused: ${file.path.join('/')} leads outside ${base} through a link`);
    paths.push(path);
  }
  return paths;
}

/** The folders between the files and `root` (not `root` itself), deepest first. */
function foldersOf(root: string, paths: readonly string[]): string[] {
  const base = resolve(root);
  const folders = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(path); dir !== base && isInsideOrSame(base, dir); dir = dirname(dir))
      folders.add(dir);
  }
  return [...folders].sort((a, b) => b.length - a.length);
}

/** Removes the folders that are empty now (a folder with anything else in it stays). */
async function removeEmptyFolders(root: string, paths: readonly string[]): Promise<void> {
  for (const dir of foldersOf(root, paths)) await fs.rmdir(dir).catch(() => undefined);
}

/** Deletes the torrent's files under `root` and the folders they leave empty; nothing else. */
export async function deleteTorrentData(root: string, meta: Pick<TorrentMetadata, 'files'>): Promise<void> {
  const paths = await ownPaths(root, meta);
  for (const path of paths) await fs.rm(path, { force: true });
  await removeEmptyFolders(root, paths);
}

/**
 * Moves the torrent's files from `from` to the same places under `to` (a rename on the same
 * device, a copy then delete across devices); missing files are skipped (nothing to move).
 */
export async function moveTorrentData(
  from: string,
  to: string,
  meta: Pick<TorrentMetadata, 'files'>,
): Promise<void> {
  const sources = await ownPaths(from, meta);
  const targets = await ownPaths(to, meta);
  for (const [index, source] of sources.entries()) {
    const target = targets[index]!;
    if (source === target) continue;
    try {
      await fs.lstat(source);
    } catch {
      continue;
    }
    await fs.mkdir(dirname(target), { recursive: true });
    try {
      await fs.rename(source, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await fs.cp(source, target, { preserveTimestamps: true, verbatimSymlinks: true });
      await fs.rm(source, { force: true });
    }
  }
  await removeEmptyFolders(from, sources);
}
