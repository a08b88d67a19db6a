import type { FileHandle } from 'node:fs/promises';
import * as fsPromises from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { StorageError } from '../errors.js';
import type { FileRange, TorrentMetadata } from '../metainfo/types.js';
import { createTorrentSymlink } from './bep47-symlink.js';
import { BlockCursor, writeAllAt } from './block-cursor.js';
import { DiskSizes } from './disk-sizes.js';
import { FileLayout } from './file-layout.js';
import type { FileStorageOptions, FileSystem } from './file-storage-options.js';
import { fileState, syncFile } from './file-sync.js';
import { sharedHandleBudget } from './handle-budget.js';
import { HandleCache } from './handle-cache.js';
import { toStorageError } from './io-errors.js';
import { PartFile } from './part-file.js';
import { PathGuard } from './path-guard.js';
import type { ResumeFileState } from './resume-record.js';
import { OPEN_OR_CREATE, openTorrentFile } from './torrent-file-open.js';
import type { Storage } from './types.js';
import { sharedWriteThread, type WriteThread } from './write-thread.js';

export type { FileStorageOptions, FileSystem } from './file-storage-options.js';

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
  /** Sizes on disk for mayHavePiece, so a resume check stats each file once. */
  readonly #sizes: DiskSizes;
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
    this.#sizes = new DiskSizes(meta.files.length, (index) =>
      this.#fs.stat(this.pathOf(index)).then(
        (stats) => stats.size,
        // Missing, or unreadable for any reason: the check will treat the piece as not-have.
        () => undefined,
      ),
    );
    const budget = options.handleBudget ?? sharedHandleBudget();
    this.#handles = new HandleCache(options.maxOpenFiles ?? 32, budget);
    const writeThread = options.writeThread ?? (options.fileSystem === undefined && sharedWriteThread());
    this.#writeThread = writeThread === false ? undefined : writeThread;
    this.#part = new PartFile(
      resolve(this.root, options.partFile ?? `.${meta.infoHashHex}.parts`),
      meta.pieceCount,
      meta.pieceLength,
      meta.files.length,
      budget,
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
      parked.push(keep && (was || (await this.#sizes.get(index)) === undefined));
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
    this.#sizes.reset();
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
      const size = await this.#sizes.get(range.fileIndex);
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
        if (((await this.#sizes.get(index)) ?? 0) > 0) found = true;
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
    this.#sizes.reset();
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
          await writeAllAt(handle, range.fileOffset, parts, path);
        },
      );
    } catch (error) {
      throw toStorageError(error, path, 'write');
    }
    // The file now has its full length (extended on open).
    this.#sizes.set(range.fileIndex, this.#meta.files[range.fileIndex]!.length);
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

  /** Opens file `index` (see torrent-file-open.ts). */
  #openFile(index: number, writable: boolean): Promise<FileHandle> {
    return openTorrentFile(this.#guard, this.pathOf(index), writable, {
      knownMissing: this.#sizes.knownMissing(index),
      length: this.#meta.files[index]!.length,
      mode: this.#modeOf(index),
    });
  }

  /** BEP 47 `x`: created executable (the umask still applies); only new files, existing modes are kept. */
  #modeOf(index: number): number {
    return this.#meta.files[index]!.executable ? 0o777 : 0o666;
  }

  /** The BEP 47 symlink of file `index` (see bep47-symlink.ts). */
  async #createSymlink(index: number): Promise<void> {
    await createTorrentSymlink(this.#meta.files[index]!, this.root, this.pathOf(index), this.#guard);
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
