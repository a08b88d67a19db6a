import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as fsPromises from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { StorageError } from '../errors.js';

/** The calls the guard makes through the (swappable) file system of FileStorage. */
export interface GuardedFileSystem {
  open(path: string, flags: string | number, mode?: number): Promise<FileHandle>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
}

/** 0 where the platform has no O_NOFOLLOW (Windows): there the realpath checks alone apply. */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** A planted FIFO must not block the open (no effect on regular files); it is refused after. */
const NONBLOCK = constants.O_NONBLOCK ?? 0;

/** Whether `path` is `folder` itself or lies below it (both already resolved). */
export function isInsideOrSame(folder: string, path: string): boolean {
  const inside = relative(folder, path);
  return inside === '' || (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside));
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Keeps every open and every folder made by a FileStorage inside its root,
 * whatever symlinks someone else planted there (a shared download folder,
 * a previous torrent, a sync tool).
 *
 * Rule: a path may pass through symlinks only if the place it finally
 * resolves to lies inside the root (resolved with realpath, so a root that
 * is itself reached through a link is fine). Links Lodestone itself made
 * (BEP 47, always inside the torrent's folder) therefore keep working;
 * anything resolving outside is refused with LODESTONE_ERR_UNSAFE_PATH
 * naming the path, before a byte is read or written.
 *
 * How, for each open:
 * 1. the parent folder is resolved with realpath and must lie inside the
 *    root; missing folders are made one level at a time, each checked
 *    after it exists (so `mkdir -p` never walks through a planted link);
 * 2. the file itself is opened with O_NOFOLLOW; if it is a symlink (ELOOP),
 *    its target is resolved, checked, and opened instead (again O_NOFOLLOW);
 * 3. after the open, the path is resolved again and its inode compared with
 *    the open handle's: a folder swapped for a link between 1 and 2 (or
 *    swapped back after 2) is caught here, and the handle closed unused.
 *    Only regular files pass: a planted FIFO or device is refused (opened
 *    with O_NONBLOCK, so a FIFO cannot hang the open).
 *
 * What remains (Node has no openat(2)): a folder swapped for a link in the
 * instant between 1 and 2 lets that one open reach outside the root; if it
 * was a create, an empty file may be left there. Step 3 still refuses the
 * handle, so nothing outside the root is ever read, written or extended.
 */
export class PathGuard {
  readonly root: string;
  readonly #fs: GuardedFileSystem;
  #realRoot: Promise<string> | undefined;

  constructor(root: string, fileSystem: GuardedFileSystem) {
    this.root = root;
    this.#fs = fileSystem;
  }

  /**
   * Opens `path` (inside the root) with `flags` (numeric, O_NOFOLLOW is
   * added). With `create`, missing folders on the way are made first.
   */
  async open(path: string, flags: number, mode: number | undefined, create: boolean): Promise<FileHandle> {
    const realRoot = await this.#resolveRoot(create);
    const parent = dirname(path);
    if (create) await this.#readyFolder(realRoot, parent, path);
    else await this.#assertInside(realRoot, parent, path);
    let target = path;
    let handle: FileHandle;
    try {
      handle = await this.#fs.open(path, flags | NOFOLLOW | NONBLOCK, mode);
    } catch (error) {
      // ELOOP: the last component is a symlink (EMLINK on FreeBSD, EFTYPE on some BSDs).
      const code = errnoOf(error);
      if (code !== 'ELOOP' && code !== 'EMLINK' && code !== 'EFTYPE') throw error;
      target = await this.#resolveLink(realRoot, path);
      handle = await this.#fs.open(target, flags | NOFOLLOW | NONBLOCK, mode);
    }
    try {
      await this.#assertSameFile(realRoot, path, target, handle);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return handle;
  }

  /** Makes folder `dir` (inside the root) and the missing ones above it, never through an outside link. */
  async makeFolders(dir: string): Promise<void> {
    await this.#makeFolders(await this.#resolveRoot(true), dir);
  }

  #resolveRoot(create: boolean): Promise<string> {
    if (!this.#realRoot) {
      // The root is the user's choice: it may be made, and reached through links, freely.
      const made = create ? this.#fs.mkdir(this.root, { recursive: true }) : Promise.resolve();
      const resolved = made.then(() => fsPromises.realpath(this.root));
      this.#realRoot = resolved;
      // A missing root is retried next time (a later write may create it).
      resolved.catch(() => {
        if (this.#realRoot === resolved) this.#realRoot = undefined;
      });
    }
    return this.#realRoot;
  }

  /**
   * The folder `dir` exists and resolves inside the root (the rule, as for an open without
   * create): one realpath when it already exists, the common case when a torrent of many files
   * fills folders it made before; otherwise it is made level by level.
   */
  async #readyFolder(realRoot: string, dir: string, shown: string): Promise<void> {
    try {
      await this.#assertInside(realRoot, dir, shown);
      return;
    } catch (error) {
      const code = errnoOf(error);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    await this.#makeFolders(realRoot, dir);
  }

  async #makeFolders(realRoot: string, dir: string): Promise<void> {
    const inside = relative(this.root, dir);
    if (inside === '') return;
    let current = this.root;
    for (const part of inside.split(sep)) {
      current = join(current, part);
      try {
        // Only `current` itself can be missing here: everything above it was checked already.
        await this.#fs.mkdir(current, { recursive: true });
      } catch (error) {
        // EEXIST/ENOTDIR on a dangling link or a file: say "unsafe" if it is a link, else the error.
        if (await isSymlink(current)) throw unsafe(current, 'is a symlink that does not lead to a folder');
        throw error;
      }
      await this.#assertInside(realRoot, current, current);
    }
  }

  /** `folder` resolves inside the root (a missing folder rejects with ENOENT, like an open would). */
  async #assertInside(realRoot: string, folder: string, shown: string): Promise<void> {
    const real = await fsPromises.realpath(folder);
    if (!isInsideOrSame(realRoot, real)) {
      throw unsafe(shown, `leads outside the download folder (through a symlink, to ${real})`);
    }
  }

  /** Where the symlink at `path` leads, if that is inside the root (strictly). */
  async #resolveLink(realRoot: string, path: string): Promise<string> {
    let real: string;
    try {
      real = await fsPromises.realpath(path);
    } catch {
      throw unsafe(path, 'is a symlink that leads nowhere');
    }
    if (real === realRoot || !isInsideOrSame(realRoot, real)) {
      throw unsafe(path, `is a symlink that leads outside the download folder (to ${real})`);
    }
    return real;
  }

  /** The open handle is the file `target` resolves to now, and that lies inside the root. */
  async #assertSameFile(realRoot: string, path: string, target: string, handle: FileHandle): Promise<void> {
    const real = await fsPromises.realpath(target).catch(() => undefined);
    if (real === undefined || !isInsideOrSame(realRoot, real)) {
      throw unsafe(path, `changed while being opened and now leads outside the download folder`);
    }
    const [opened, there] = await Promise.all([handle.stat(), fsPromises.stat(real)]);
    if (!opened.isFile()) throw unsafe(path, 'is not a regular file (a FIFO, device or folder)');
    if (opened.dev !== there.dev || opened.ino !== there.ino) {
      throw unsafe(path, 'changed while being opened (a folder on the way was swapped)');
    }
  }
}

async function isSymlink(path: string): Promise<boolean> {
  return fsPromises.lstat(path).then(
    (stats) => stats.isSymbolicLink(),
    () => false,
  );
}

function unsafe(path: string, why: string): StorageError {
  return new StorageError(`refusing ${path}: it ${why}`, 'LODESTONE_ERR_UNSAFE_PATH');
}
