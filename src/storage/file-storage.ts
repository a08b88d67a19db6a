import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as fsPromises from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { StorageError } from '../errors.js';
import type { FileRange, TorrentMetadata } from '../metainfo/types.js';
import { FileLayout } from './file-layout.js';
import { fileState, syncFile } from './file-sync.js';
import { type HandleBudget, sharedHandleBudget } from './handle-budget.js';
import { HandleCache } from './handle-cache.js';
import { isMissingFile, toStorageError } from './io-errors.js';
import { PartFile } from './part-file.js';
import { PathGuard } from './path-guard.js';
import type { ResumeFileState } from './resume-record.js';
import type { Storage } from './types.js';
import { sharedWriteThread, type WriteThread } from './write-thread.js';

/** The few file-system calls FileStorage makes; tests swap them to simulate a full disk. */
export interface FileSystem {
  open(path: string, flags: string | number, mode?: number): Promise<FileHandle>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  stat(path: string): Promise<{ size: number }>;
}

export interface FileStorageOptions {
  /** Idle file handles this storage keeps open for reuse (an LRU). @default 32 */
  maxOpenFiles?: number;
  /**
   * The bound on files open at once, shared with other storages: every open file
   * takes a slot until it is closed, and an operation waits for a free slot.
   * @default sharedHandleBudget(): one per process, 128 files or a quarter of
   * the soft RLIMIT_NOFILE when that is lower
   */
  handleBudget?: HandleBudget;
  /** File-system implementation. @default node:fs/promises */
  fileSystem?: FileSystem;
  /**
   * The thread that writes pieces, by file descriptor; `false` writes
   * through the handles' own write()/writev() on the libuv pool.
   * @default the process-wide sharedWriteThread(), unless a custom
   * `fileSystem` is given (its handles need not have a real descriptor)
   */
  writeThread?: WriteThread | false;
  /**
   * The part file: where the bytes of wanted pieces that fall in unwanted files go (see
   * {@link FileStorage.setFileSelection}). @default `<root>/.<infohash hex>.parts`
   */
  partFile?: string;
}

/** Read-write, created if missing, never truncated (unlike 'w+', which would race a concurrent open). */
const OPEN_OR_CREATE = constants.O_RDWR | constants.O_CREAT;

/**
 * Stores a torrent's pieces in its files under `root`.
 *
 * Files and folders are created when the first piece touching them is
 * written, then extended to their full length (sparse where the OS allows),
 * so a partly downloaded torrent only occupies folders it has data for.
 * Padding files (BEP 47) are never written and read as zeros. Writes are
 * positional, so writes of different pieces to one file need no ordering;
 * they go to a WriteThread (reads use the libuv pool), and the handle cache
 * keeps each handle open until the operations using it are done. Data
 * reaches the OS page cache; like most clients we do not fsync.
 */
export class FileStorage implements Storage {
  readonly root: string;
  readonly #meta: TorrentMetadata;
  readonly #layout: FileLayout;
  readonly #fs: FileSystem;
  readonly #guard: PathGuard;
  readonly #handles: HandleCache;
  /**
   * Sizes on disk for mayHavePiece, so a resume check stats each file once: one
   * number per file (NaN: not known yet, -1: missing or unreadable), made on first use.
   */
  #sizes: Float64Array | undefined;
  /** Stats in flight, by file index (a few at a time). */
  readonly #sizing = new Map<number, Promise<number | undefined>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #writeThread: WriteThread | undefined;
  /** Files with writes completed since the last sync(). */
  readonly #unsynced = new Set<number>();
  readonly #part: PartFile;
  /** Per file: its bytes live in the part file (undefined: no file is, the fast path). */
  #parked: boolean[] | undefined;
  /** Per file: wanted (undefined: all). Unwanted empty files and symlinks are not created. */
  #wanted: readonly boolean[] | undefined;
  /** Set by the first selection change: reads and writes wait for the changes before them. */
  #serial: Promise<void> | undefined;

  constructor(meta: TorrentMetadata, root: string, options: FileStorageOptions = {}) {
    this.#meta = meta;
    this.root = resolve(root);
    this.#layout = new FileLayout(meta);
    this.#fs = options.fileSystem ?? fsPromises;
    this.#guard = new PathGuard(this.root, this.#fs);
    this.#handles = new HandleCache(options.maxOpenFiles ?? 32, options.handleBudget ?? sharedHandleBudget());
    const writeThread = options.writeThread ?? (options.fileSystem === undefined && sharedWriteThread());
    this.#writeThread = writeThread === false ? undefined : writeThread;
    this.#part = new PartFile(
      resolve(this.root, options.partFile ?? `.${meta.infoHashHex}.parts`),
      meta.pieceCount,
      meta.pieceLength,
      meta.files.length,
    );
  }

  /** Path of the part file (it exists only while it holds pieces). */
  get partFilePath(): string {
    return this.#part.path;
  }

  /**
   * Which files are wanted (one flag per file). An unwanted file that is not on disk is never
   * created: the bytes of the pieces it shares with wanted files go to the part file, and are
   * read back from there. A file that becomes wanted gets its bytes from the part file (then
   * released there; the part file is deleted once empty). An unwanted file already on disk is
   * left alone and keeps being used. Reads and writes issued later wait for the change.
   */
  setFileSelection(wanted: readonly boolean[]): Promise<void> {
    if (wanted.length !== this.#meta.files.length)
      throw new StorageError(`${wanted.length} file flags for ${this.#meta.files.length} files`);
    // Everything wanted and nothing parked (the usual download): nothing to do, no serialising.
    if (!this.#serial && !this.#parked && this.#part.pieceCount === 0 && wanted.every(Boolean)) {
      this.#wanted = undefined;
      return Promise.resolve();
    }
    const before = [...this.#inFlight];
    const run = (this.#serial ?? Promise.resolve()).then(async () => {
      await Promise.allSettled(before);
      await this.#applySelection([...wanted]);
    });
    this.#serial = run.catch(() => undefined);
    return this.#track(run);
  }

  async #applySelection(wanted: boolean[]): Promise<void> {
    const files = this.#meta.files;
    const parked: boolean[] = [];
    for (let index = 0; index < files.length; index++) {
      const file = files[index]!;
      const was = this.#parked?.[index] === true || this.#part.parked(index);
      const keep = !wanted[index] && !file.padding && file.length > 0 && !file.symlink;
      parked.push(keep && (was || (await this.#sizeOnDisk(index)) === undefined));
    }
    // Files leaving the part file: copy their slices out first, while reads still go there.
    const leaving = new Set<number>();
    for (let index = 0; index < files.length; index++) {
      if ((this.#parked?.[index] === true || this.#part.parked(index)) && !parked[index]) leaving.add(index);
    }
    if (leaving.size > 0) {
      for (const piece of this.#part.pieces()) {
        for (const range of this.#layout.ranges(piece)) {
          if (!leaving.has(range.fileIndex)) continue;
          const bytes = Buffer.alloc(range.length);
          await this.#part.read(piece, range.pieceOffset, bytes);
          await this.#writeRange(range, [bytes]);
        }
      }
    }
    this.#parked = parked.some(Boolean) ? parked : undefined;
    this.#wanted = wanted.every(Boolean) ? undefined : wanted;
    await this.#part.setParked(parked);
    for (const piece of this.#part.pieces()) {
      if (!this.#layout.ranges(piece).some((range) => parked[range.fileIndex]))
        await this.#part.release(piece);
    }
    if (this.#part.pieceCount === 0) await this.#part.close(); // deletes it
  }

  /** Validates every file path (so an unsafe torrent fails before any I/O); creates nothing yet. */
  async open(): Promise<void> {
    this.#sizes = undefined;
    for (let index = 0; index < this.#meta.files.length; index++) this.pathOf(index);
    await this.#part.load();
    // Files parked by an earlier run stay parked until a selection says otherwise.
    const parked = this.#meta.files.map((_file, index) => this.#part.parked(index));
    this.#parked = parked.some(Boolean) ? parked : undefined;
  }

  /**
   * Absolute path of file `index`. Defence in depth behind metainfo's own
   * checks: the resolved path must lie strictly inside `root`.
   */
  pathOf(index: number): string {
    // Not cached: 100,000 files would keep 100,000 strings; resolving again is cheap.
    const file = this.#meta.files[index];
    if (!file) throw new StorageError(`file ${index} out of range`);
    const components = file.path;
    const unsafe =
      components.length === 0 || components.some((part) => part.length === 0 || part.includes('\0'));
    const full = resolve(this.root, ...components);
    const prefix = this.root.endsWith(sep) ? this.root : this.root + sep;
    if (unsafe || !full.startsWith(prefix) || full.length === prefix.length) {
      throw new StorageError(
        `unsafe file path ${JSON.stringify(components.join('/'))} escapes ${this.root}`,
        'LODESTONE_ERR_UNSAFE_PATH',
      );
    }
    return full;
  }

  read(index: number, begin: number, length: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(length);
    if (this.#serial)
      return this.#track(this.#serial.then(() => this.#readInto(index, begin, out)).then(() => out));
    return this.#track(this.#readInto(index, begin, out).then(() => out));
  }

  readInto(index: number, begin: number, target: Buffer): Promise<void> {
    if (this.#serial) return this.#track(this.#serial.then(() => this.#readInto(index, begin, target)));
    return this.#track(this.#readInto(index, begin, target));
  }

  writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void> {
    if (this.#serial) return this.#track(this.#serial.then(() => this.#writePiece(index, blocks)));
    return this.#track(this.#writePiece(index, blocks));
  }

  async mayHavePiece(index: number): Promise<boolean> {
    for (const range of this.#layout.ranges(index)) {
      const file = this.#meta.files[range.fileIndex]!;
      if (file.padding) continue;
      if (this.#parked?.[range.fileIndex]) {
        if (!this.#part.has(index)) return false;
        continue;
      }
      const size = await this.#sizeOnDisk(range.fileIndex);
      if (size === undefined || size < range.fileOffset + range.length) return false;
    }
    return true;
  }

  /** Stats the files a few at a time (not one promise per file at once), stopping at the first with data. */
  async hasAnyData(): Promise<boolean> {
    if (this.#part.pieceCount > 0) return true;
    const files = this.#meta.files;
    let next = 0;
    let found = false;
    const lane = async (): Promise<void> => {
      while (!found && next < files.length) {
        const index = next++;
        const file = files[index]!;
        if (file.padding || file.symlink) continue;
        if (((await this.#sizeOnDisk(index)) ?? 0) > 0) found = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, files.length) }, lane));
    return found;
  }

  /**
   * fsyncs every file with a write completed since the last call, so the pieces written before
   * it survive a power loss (resume records call it before recording them).
   */
  async sync(): Promise<void> {
    const files = [...this.#unsynced];
    this.#unsynced.clear();
    for (let i = 0; i < files.length; i++) {
      try {
        await syncFile(this.pathOf(files[i]!));
      } catch (error) {
        for (const index of files.slice(i)) this.#unsynced.add(index);
        throw error;
      }
    }
  }

  /** Size and mtime of every file as it is on disk now (padding files: undefined). */
  async fileStates(): Promise<ResumeFileState[]> {
    const states: ResumeFileState[] = new Array(this.#meta.files.length).fill(undefined);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < states.length) {
        const index = next++;
        if (!this.#meta.files[index]!.padding) states[index] = await fileState(this.pathOf(index));
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, states.length) }, lane));
    return states;
  }

  /** Waits for running reads and writes, then closes every file handle (a later write reopens them). */
  async close(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await this.#handles.closeAll();
    await this.#part.close();
    this.#sizes = undefined;
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#inFlight.add(operation);
    const untrack = () => this.#inFlight.delete(operation);
    operation.then(untrack, untrack);
    return operation;
  }

  async #readInto(index: number, begin: number, out: Buffer): Promise<void> {
    const ranges = this.#layout.ranges(index, begin, out.length);
    await settleAll(
      ranges.map(async (range) => {
        const target = out.subarray(range.pieceOffset - begin, range.pieceOffset - begin + range.length);
        if (this.#meta.files[range.fileIndex]!.padding) {
          target.fill(0);
          return;
        }
        if (this.#parked?.[range.fileIndex]) return this.#part.read(index, range.pieceOffset, target);
        await this.#readRange(range, target);
      }),
    );
  }

  async #readRange(range: FileRange, target: Buffer): Promise<void> {
    const path = this.pathOf(range.fileIndex);
    try {
      await this.#handles.use(
        range.fileIndex,
        false,
        (writable) => this.#openFile(range.fileIndex, writable),
        async (handle) => {
          let done = 0;
          while (done < target.length) {
            const { bytesRead } = await handle.read(
              target,
              done,
              target.length - done,
              range.fileOffset + done,
            );
            if (bytesRead === 0) {
              throw new StorageError(
                `file ${path} is shorter than expected (${range.fileOffset + done} bytes)`,
              );
            }
            done += bytesRead;
          }
        },
      );
    } catch (error) {
      throw toStorageError(error, path, 'read');
    }
  }

  async #writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void> {
    const size = this.#layout.pieceSize(index);
    let total = 0;
    for (const block of blocks) total += block.byteLength;
    if (total !== size)
      throw new StorageError(`piece ${index} is ${size} bytes, got ${total} bytes to write`);
    const writes: Promise<void>[] = [];
    const cursor = new BlockCursor(blocks);
    for (const range of this.#layout.ranges(index)) {
      const parts = cursor.take(range.length);
      if (this.#meta.files[range.fileIndex]!.padding) continue;
      if (this.#parked?.[range.fileIndex]) writes.push(this.#part.write(index, range.pieceOffset, parts));
      else writes.push(this.#writeRange(range, parts));
    }
    await settleAll(writes);
    await this.#createEntriesAt(index);
  }

  async createEntriesOf(have: { has(index: number): boolean }): Promise<void> {
    for (let index = 0; index < this.#meta.pieceCount; index++) {
      if (have.has(index)) await this.#createEntriesAt(index);
    }
  }

  /** The empty files and symlinks placed at piece `index` (they hold no bytes of it). */
  async #createEntriesAt(index: number): Promise<void> {
    const links: number[] = [];
    const empties: Promise<void>[] = [];
    for (const fileIndex of this.#layout.emptyFilesAt(index)) {
      if (this.#wanted?.[fileIndex] === false) continue;
      if (this.#meta.files[fileIndex]!.symlink) links.push(fileIndex);
      else empties.push(this.#createEmpty(fileIndex));
    }
    await settleAll(empties);
    // Links last and one at a time, in file-list order: each sees the folders and links made before it.
    for (const fileIndex of links) await this.#createSymlink(fileIndex);
  }

  async #writeRange(range: FileRange, parts: Uint8Array[]): Promise<void> {
    const path = this.pathOf(range.fileIndex);
    try {
      await this.#handles.use(
        range.fileIndex,
        true,
        (writable) => this.#openFile(range.fileIndex, writable),
        async (handle) => {
          if (this.#writeThread) return this.#writeThread.write(handle.fd, range.fileOffset, parts);
          let position = range.fileOffset;
          let pending = parts;
          // A write may write less than asked (rare on regular files); continue with the rest.
          while (pending.length > 0) {
            // One buffer (a whole piece, the common case) goes through write(): Node's writev
            // path costs about twice the main-thread time and three times the latency per call.
            const only = pending.length === 1 ? pending[0]! : undefined;
            const { bytesWritten } = only
              ? await handle.write(only, 0, only.byteLength, position)
              : await handle.writev(pending, position);
            if (bytesWritten === 0) throw new StorageError(`no progress writing ${path}`, 'LODESTONE_ERR_IO');
            position += bytesWritten;
            pending = new BlockCursor(pending).skip(bytesWritten);
          }
        },
      );
    } catch (error) {
      throw toStorageError(error, path, 'write');
    }
    // The file now has its full length (extended on open).
    this.#knownSizes()[range.fileIndex] = this.#meta.files[range.fileIndex]!.length;
    this.#unsynced.add(range.fileIndex);
  }

  async #createEmpty(fileIndex: number): Promise<void> {
    const path = this.pathOf(fileIndex);
    const budget = this.#handles.budget;
    await budget.acquire();
    try {
      const handle = await this.#guard.open(path, OPEN_OR_CREATE, this.#modeOf(fileIndex), true);
      await handle.close();
    } catch (error) {
      throw toStorageError(error, path, 'create');
    } finally {
      budget.release();
    }
  }

  /**
   * Opens file `index`: read-only for reads (seeding from read-only media
   * works), read-write for writes, creating folders and the file on first
   * write and extending it to its full length (never shrinking it). Every
   * open goes through the PathGuard: nothing is opened, and no folder made,
   * through a symlink that leads outside `root`.
   */
  async #openFile(index: number, writable: boolean): Promise<FileHandle> {
    const path = this.pathOf(index);
    if (!writable) return this.#guard.open(path, constants.O_RDONLY, undefined, false);
    let handle: FileHandle | undefined;
    // Known missing (the resume check found no file): create it without trying to open it first.
    if (this.#sizes?.[index] !== -1) {
      try {
        handle = await this.#guard.open(path, constants.O_RDWR, undefined, false);
      } catch (error) {
        if (!isMissingFile(error)) throw error;
      }
    }
    handle ??= await this.#guard.open(path, OPEN_OR_CREATE, this.#modeOf(index), true);
    try {
      const expected = this.#meta.files[index]!.length;
      const { size } = await handle.stat();
      if (size < expected) await handle.truncate(expected);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    return handle;
  }

  /** BEP 47 `x`: created executable (the umask still applies); only new files, existing modes are kept. */
  #modeOf(index: number): number {
    return this.#meta.files[index]!.executable ? 0o777 : 0o666;
  }

  /**
   * Creates the BEP 47 symlink of file `index`, along with the piece at its
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
  async #createSymlink(index: number): Promise<void> {
    const file = this.#meta.files[index]!;
    const target = file.symlink?.target;
    if (!target || file.path.length < 2) return;
    const linkPath = this.pathOf(index);
    const folder = resolve(this.root, file.path[0]!);
    const targetPath = resolve(this.root, ...target);
    if (!isStrictlyInside(folder, targetPath) || !isStrictlyInside(folder, linkPath)) {
      throw new StorageError(
        `symlink ${JSON.stringify(file.path.join('/'))} points outside ${folder}`,
        'LODESTONE_ERR_UNSAFE_PATH',
      );
    }
    const parent = dirname(linkPath);
    try {
      await this.#guard.makeFolders(parent);
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

  #knownSizes(): Float64Array {
    if (!this.#sizes) {
      this.#sizes = new Float64Array(this.#meta.files.length);
      this.#sizes.fill(Number.NaN);
    }
    return this.#sizes;
  }

  async #sizeOnDisk(index: number): Promise<number | undefined> {
    const sizes = this.#knownSizes();
    const known = sizes[index]!;
    if (!Number.isNaN(known)) return known < 0 ? undefined : known;
    let size = this.#sizing.get(index);
    if (!size) {
      size = this.#fs.stat(this.pathOf(index)).then(
        (stats) => stats.size,
        // Missing, or unreadable for any reason: the check will treat the piece as not-have.
        () => undefined,
      );
      this.#sizing.set(index, size);
      size.then((value) => {
        this.#sizing.delete(index);
        // A write may have set the size meanwhile; it wins.
        if (this.#sizes === sizes && Number.isNaN(sizes[index]!)) sizes[index] = value ?? -1;
      });
    }
    return size;
  }
}

/**
 * Like Promise.all, but waits for every operation to settle before rejecting (with the first
 * failure in order), so nothing of a failed piece still runs when close() returns.
 */
async function settleAll(operations: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(operations);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}

function isStrictlyInside(folder: string, path: string): boolean {
  const inside = relative(folder, path);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}

/** Walks a list of blocks, handing out byte stretches as subarrays (never copies). */
class BlockCursor {
  readonly #blocks: readonly Uint8Array[];
  #block = 0;
  #offset = 0;

  constructor(blocks: readonly Uint8Array[]) {
    this.#blocks = blocks;
  }

  /** The next `length` bytes, split at block boundaries. */
  take(length: number): Uint8Array[] {
    const parts: Uint8Array[] = [];
    let remaining = length;
    while (remaining > 0) {
      const block = this.#blocks[this.#block];
      if (!block) throw new StorageError('blocks shorter than the piece');
      const available = block.byteLength - this.#offset;
      const take = Math.min(available, remaining);
      if (take > 0) parts.push(block.subarray(this.#offset, this.#offset + take));
      remaining -= take;
      this.#offset += take;
      if (this.#offset === block.byteLength) {
        this.#block++;
        this.#offset = 0;
      }
    }
    return parts;
  }

  /** Everything after the first `length` bytes. */
  skip(length: number): Uint8Array[] {
    this.take(length);
    const rest: Uint8Array[] = [];
    const current = this.#blocks[this.#block];
    if (current && this.#offset < current.byteLength) rest.push(current.subarray(this.#offset));
    for (let k = this.#block + 1; k < this.#blocks.length; k++) rest.push(this.#blocks[k]!);
    return rest;
  }
}
