import type { FileHandle } from 'node:fs/promises';
import * as fsPromises from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError } from '../errors.js';
import { type HandleBudget, sharedHandleBudget } from './handle-budget.js';
import { HandleCache } from './handle-cache.js';
import { isMissingFile, toStorageError } from './io-errors.js';

const MAGIC = Buffer.from('LSPART01', 'latin1');
/** magic, piece count (u32), file count (u32). */
const FIXED = MAGIC.length + 8;
const NO_SLOT = 0xffffffff;

/**
 * The part file (libtorrent's idea): the bytes of verified pieces that fall in files the user
 * does not want, so those files are never created. It holds one slot of `pieceLength` bytes per
 * piece stored, at the slice offsets of the piece (only the unwanted slices are written: the rest
 * stays sparse).
 *
 * Layout: `LSPART01`, piece count and file count (u32 BE), then one byte per file (1: the file is
 * "parked", its bytes live here), then one u32 per piece (its slot, or 0xffffffff), then the
 * slots. The header is rewritten in place (one small positional write per change); a part file
 * of another torrent layout is ignored and replaced. What the part file holds is trusted only
 * through piece hashes: pieces touching a parked file are always re-hashed at start (the file is
 * missing, so a resume record never vouches for them).
 */
export class PartFile {
  readonly path: string;
  readonly #pieceCount: number;
  readonly #pieceLength: number;
  readonly #fileCount: number;
  readonly #slots: Uint32Array;
  readonly #parked: Uint8Array;
  /** Slots in use by piece, and free slot numbers to reuse. */
  #used = 0;
  readonly #free: number[] = [];
  #nextSlot = 0;
  /** Its one handle, a slot of the process's HandleBudget like any data file (closed when idle). */
  readonly #handles: HandleCache;
  /** Header writes, one at a time, each built when it runs (so a later state is never overwritten by an earlier one). */
  #headerQueue: Promise<void> = Promise.resolve();
  /** load() ran: what is on disk is known, so an empty part file may be deleted. */
  #loaded = false;

  constructor(
    path: string,
    pieceCount: number,
    pieceLength: number,
    fileCount: number,
    budget: HandleBudget = sharedHandleBudget(),
  ) {
    this.#handles = new HandleCache(1, budget);
    this.path = path;
    this.#pieceCount = pieceCount;
    this.#pieceLength = pieceLength;
    this.#fileCount = fileCount;
    this.#slots = new Uint32Array(pieceCount).fill(NO_SLOT);
    this.#parked = new Uint8Array(fileCount);
  }

  get #headerSize(): number {
    return FIXED + this.#fileCount + 4 * this.#pieceCount;
  }

  /** Pieces with a slot here. */
  get pieceCount(): number {
    return this.#used;
  }

  /** Whether the part file's header says file `index` is parked (its bytes live here). */
  parked(index: number): boolean {
    return this.#parked[index] === 1;
  }

  has(piece: number): boolean {
    return this.#slots[piece] !== NO_SLOT;
  }

  /** The pieces with a slot, ascending. */
  pieces(): number[] {
    const out: number[] = [];
    for (let piece = 0; piece < this.#pieceCount; piece++) if (this.has(piece)) out.push(piece);
    return out;
  }

  /** Reads the header of an existing part file (a missing or foreign one reads as empty). */
  async load(): Promise<void> {
    this.#loaded = true;
    let data: Buffer;
    try {
      data = await fsPromises.readFile(this.path);
    } catch (error) {
      if (isMissingFile(error)) return;
      throw toStorageError(error, this.path, 'read');
    }
    const header = this.#headerSize;
    if (
      data.length < header ||
      !data.subarray(0, MAGIC.length).equals(MAGIC) ||
      data.readUInt32BE(MAGIC.length) !== this.#pieceCount ||
      data.readUInt32BE(MAGIC.length + 4) !== this.#fileCount
    ) {
      return; // not ours, or another layout: start afresh (overwritten on first write)
    }
    for (let file = 0; file < this.#fileCount; file++) this.#parked[file] = data[FIXED + file] === 1 ? 1 : 0;
    const maxSlot = Math.floor((data.length - header) / this.#pieceLength);
    const seen = new Set<number>();
    for (let piece = 0; piece < this.#pieceCount; piece++) {
      const slot = data.readUInt32BE(FIXED + this.#fileCount + 4 * piece);
      if (slot === NO_SLOT || slot > maxSlot || seen.has(slot)) continue;
      seen.add(slot);
      this.#slots[piece] = slot;
      this.#used++;
      this.#nextSlot = Math.max(this.#nextSlot, slot + 1);
    }
    for (let slot = 0; slot < this.#nextSlot; slot++) if (!seen.has(slot)) this.#free.push(slot);
  }

  /** Records which files are parked (written to the header only when the file exists or is written). */
  async setParked(parked: readonly boolean[]): Promise<void> {
    let changed = false;
    for (let file = 0; file < this.#fileCount; file++) {
      const value = parked[file] ? 1 : 0;
      if (this.#parked[file] !== value) changed = true;
      this.#parked[file] = value;
    }
    if (changed && this.#used > 0) await this.#queue(() => this.#writeAt(Buffer.from(this.#parked), FIXED));
  }

  /** Writes bytes of piece `piece` at `pieceOffset` in its slot (allocating the slot). */
  async write(piece: number, pieceOffset: number, parts: readonly Uint8Array[]): Promise<void> {
    // Opened first: a part file that cannot be opened allocates no slot.
    await this.#use(async (handle) => {
      let slot = this.#slots[piece]!;
      if (slot === NO_SLOT) {
        slot = this.#free.pop() ?? this.#nextSlot++;
        this.#slots[piece] = slot;
        this.#used++;
        // The header writes use the same handle (held here, so never closed meanwhile).
        if (this.#used === 1) await this.#queue(() => this.#writeHeader());
        else await this.#queue(() => this.#writeSlotEntry(piece));
      }
      let position = this.#headerSize + slot * this.#pieceLength + pieceOffset;
      for (const part of parts) {
        await this.#writeFully(handle, part, position);
        position += part.byteLength;
      }
    });
  }

  /** Reads `target.length` bytes of piece `piece` at `pieceOffset` from its slot. */
  async read(piece: number, pieceOffset: number, target: Uint8Array): Promise<void> {
    const slot = this.#slots[piece]!;
    if (slot === NO_SLOT) throw new StorageError(`piece ${piece} is not in the part file ${this.path}`);
    const base = this.#headerSize + slot * this.#pieceLength + pieceOffset;
    await this.#use(async (handle) => {
      let done = 0;
      try {
        while (done < target.length) {
          const { bytesRead } = await handle.read(target, done, target.length - done, base + done);
          if (bytesRead === 0) {
            // Sparse tail never written: zeros, and the piece hash will tell.
            target.fill(0, done);
            return;
          }
          done += bytesRead;
        }
      } catch (error) {
        throw toStorageError(error, this.path, 'read');
      }
    });
  }

  /** Forgets piece `piece`'s slot (its bytes are elsewhere now). */
  async release(piece: number): Promise<void> {
    const slot = this.#slots[piece]!;
    if (slot === NO_SLOT) return;
    this.#slots[piece] = NO_SLOT;
    this.#free.push(slot);
    this.#used--;
    if (this.#used > 0) await this.#queue(() => this.#writeSlotEntry(piece));
  }

  #queue(task: () => Promise<void>): Promise<void> {
    const run = this.#headerQueue.then(task);
    this.#headerQueue = run.catch(() => undefined);
    return run;
  }

  /** Closes the handle, and deletes the file when no piece is left in it (never before load()). */
  async close(): Promise<void> {
    await this.#headerQueue;
    await this.#handles.closeAll();
    if (this.#used === 0 && this.#loaded) {
      await fsPromises.rm(this.path, { force: true }).catch((error: unknown) => {
        throw toStorageError(error, this.path, 'write');
      });
    }
  }

  async #writeHeader(): Promise<void> {
    const header = Buffer.alloc(this.#headerSize);
    MAGIC.copy(header);
    header.writeUInt32BE(this.#pieceCount, MAGIC.length);
    header.writeUInt32BE(this.#fileCount, MAGIC.length + 4);
    header.set(this.#parked, FIXED);
    for (let piece = 0; piece < this.#pieceCount; piece++)
      header.writeUInt32BE(this.#slots[piece]!, FIXED + this.#fileCount + 4 * piece);
    await this.#writeAt(header, 0);
  }

  async #writeSlotEntry(piece: number): Promise<void> {
    const entry = Buffer.alloc(4);
    entry.writeUInt32BE(this.#slots[piece]!);
    await this.#writeAt(entry, FIXED + this.#fileCount + 4 * piece);
  }

  async #writeAt(data: Uint8Array, position: number): Promise<void> {
    await this.#use((handle) => this.#writeFully(handle, data, position));
  }

  async #writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    try {
      while (done < data.byteLength) {
        const { bytesWritten } = await handle.write(data, done, data.byteLength - done, position + done);
        if (bytesWritten === 0)
          throw new StorageError(`no progress writing ${this.path}`, 'LODESTONE_ERR_IO');
        done += bytesWritten;
      }
    } catch (error) {
      throw toStorageError(error, this.path, 'write');
    }
  }

  /** Runs `fn` with the part file's handle (opened, and created, when needed; held while in use). */
  #use<T>(fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    return this.#handles.use(0, true, () => this.#openFile(), fn);
  }

  async #openFile(): Promise<FileHandle> {
    try {
      await fsPromises.mkdir(dirname(this.path), { recursive: true });
      const probe = await fsPromises.open(this.path, 'a+');
      // 'a+' creates without truncating; positional writes need a non-append handle.
      await probe.close();
      return await fsPromises.open(this.path, 'r+');
    } catch (error) {
      throw toStorageError(error, this.path, 'write');
    }
  }
}
