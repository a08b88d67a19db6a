/**
 * `torrent-rename-path`, as Transmission does it: a path inside one torrent (its top folder, a
 * subfolder or a file, '/'-separated as `torrent-get` `files` shows it) gets a new last
 * component. The pure part is here: which names are refused, which files the path covers and
 * their new paths, and the torrent's metadata seen through the stored names. The daemon does the
 * rename on disk (`renameOnDisk`) and keeps the names in the torrent's state (`filePaths`).
 */
import * as fs from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DaemonError } from '../errors.js';
import { printableName, resolveInside, unsafeComponentReason } from '../metainfo/path-safety.js';
import type { TorrentFile, TorrentMetadata } from '../metainfo/types.js';
import { isInsideOrSame } from '../storage/path-guard.js';

/** The longest new name, in UTF-8 bytes (NAME_MAX on Linux and most file systems). */
export const MAX_NAME_BYTES = 255;

function refuse(message: string): DaemonError {
  return new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', message);
}

/**
 * Throws LODESTONE_ERR_DAEMON_TORRENT unless `name` is one safe path component: not empty, not
 * `.`/`..`, no `/` or `\`, no control character (NUL included), at most 255 UTF-8 bytes, and
 * none of the names Windows cannot hold (the same rules as the torrents' own file names).
 */
export function checkNewName(name: string): void {
  const reason = unsafeComponentReason(name);
  if (reason !== undefined) throw refuse(`invalid new name "${printableName(name)}": it ${reason}`);
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES)
    throw refuse(`invalid new name: longer than ${MAX_NAME_BYTES} bytes`);
}

/** The components of a path as the RPC gives it; refused when empty or with an empty, `.` or `..` part. */
export function splitOldPath(path: string): string[] {
  const parts = path.split('/');
  if (
    path.length === 0 ||
    parts.some((part) => unsafeComponentReason(part, { windows: false }) !== undefined)
  )
    throw refuse(`invalid path "${printableName(path)}"`);
  return parts;
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((part, index) => path[index] === part);
}

export interface RenamePlan {
  /** The old path's components (checked). */
  old: string[];
  /** The indexes of the files under the old path (the file itself, or every file in the folder). */
  affected: number[];
  /** Every file's path after the rename (the others unchanged). */
  paths: string[][];
  /** The torrent's new name, when the rename is of its top folder or its single file. */
  name: string | undefined;
}

/**
 * What renaming `oldPath` to `newName` does to the files (`paths`, one per file). Refused when
 * the name or path is invalid, no file is under the path, or another file of the torrent already
 * has the new path (or a path under it).
 */
export function planRename(
  paths: readonly (readonly string[])[],
  oldPath: string,
  newName: string,
): RenamePlan {
  checkNewName(newName);
  const old = splitOldPath(oldPath);
  const target = [...old.slice(0, -1), newName];
  const affected: number[] = [];
  paths.forEach((path, index) => {
    if (startsWith(path, old)) affected.push(index);
  });
  if (affected.length === 0) throw refuse(`no file or folder "${printableName(oldPath)}" in the torrent`);
  if (newName === old[old.length - 1]) throw refuse(`"${printableName(oldPath)}" already has that name`);
  const clash = paths.findIndex(
    (path, index) => !affected.includes(index) && (startsWith(path, target) || startsWith(target, path)),
  );
  if (clash >= 0) throw refuse(`the torrent already has "${printableName(paths[clash]!.join('/'))}"`);
  const next = paths.map((path) =>
    startsWith(path, old) ? [...target, ...path.slice(old.length)] : [...path],
  );
  // Transmission: renaming the top folder (every file under it) or the single file renames the torrent.
  const name = old.length === 1 && affected.length === paths.length ? newName : undefined;
  return { old, affected, paths: next, name };
}

/**
 * The metadata with the stored names: each file's `path` (and a link target under a renamed
 * folder) from `paths`, and `name`. The info-hash, pieces and the info dictionary stay the
 * torrent's own (peers and trackers see the same torrent). Throws when `paths` does not fit.
 */
export function withFileNames(
  meta: TorrentMetadata,
  paths: readonly (readonly string[])[],
  name: string,
): TorrentMetadata {
  if (paths.length !== meta.files.length)
    throw refuse(`the stored file names are for ${paths.length} files, the torrent has ${meta.files.length}`);
  const renames = new Map<string, string[]>();
  const newPaths = new Set(paths.map((path) => path.join('/')));
  const taken = (prefix: readonly string[]) => newPaths.has(prefix.join('/'));
  const files: TorrentFile[] = meta.files.map((file, index) => {
    const path = [...paths[index]!];
    for (const part of path) {
      const reason = unsafeComponentReason(part);
      if (reason !== undefined) throw refuse(`stored file name "${printableName(part)}" ${reason}`);
    }
    renames.set(file.path.join('/'), path);
    return { ...file, path };
  });
  // A hand-edited list must not put two files at one path, or a file where a folder is.
  if (
    newPaths.size !== files.length ||
    files.some((file) => file.path.some((_, i) => i > 0 && taken(file.path.slice(0, i))))
  )
    throw refuse('the stored file names put two files at one path');
  for (const file of files) {
    const target = file.symlink?.target;
    // A link to a file of the torrent follows it to its new name.
    const moved = target ? renames.get(target.join('/')) : undefined;
    if (file.symlink && moved) file.symlink = { ...file.symlink, target: moved };
  }
  return { ...meta, name, files };
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function realOrSelf(path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch {
    return path;
  }
}

/**
 * Renames `old` (components under `root`) to `newName` in the same folder, when it exists on
 * disk; `false` when there was nothing to rename (a file not created yet). Refused when the new
 * name exists there already or the folder leads outside `root` through a link.
 */
export async function renameOnDisk(root: string, old: readonly string[], newName: string): Promise<boolean> {
  const base = resolve(root);
  let source: string;
  try {
    source = resolveInside(base, old);
  } catch (error) {
    throw refuse(`refused: ${(error as Error).message}`);
  }
  const target = join(dirname(source), newName);
  if (!isInsideOrSame(await realOrSelf(base), await realOrSelf(dirname(source))))
    throw refuse(`refused: ${old.join('/')} leads outside ${base} through a link`);
  if (await exists(target)) throw refuse(`"${printableName(newName)}" exists already in that folder`);
  if (!(await exists(source))) return false;
  await fs.rename(source, target);
  return true;
}
