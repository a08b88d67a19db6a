import type { FileHandle } from 'node:fs/promises';

interface Entry {
  handle: Promise<FileHandle>;
  writable: boolean;
  /** Operations currently using the handle; it is closed only when this drops to 0. */
  users: number;
  /** Out of the cache (evicted, or replaced by a writable handle): close when unused. */
  retired: boolean;
}

/**
 * A small LRU of open file handles, keyed by file index.
 *
 * Handles are shared by concurrent operations: positional reads and writes
 * (pread/pwritev) need no ordering between each other, so the only thing to
 * serialise is the handle's lifecycle. Each use counts as a user; an evicted
 * handle is retired and closed only after its last user finishes, so a write
 * never races a close. The cap can be exceeded briefly while every cached
 * handle is busy.
 */
export class HandleCache {
  readonly maxOpen: number;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<number, Entry>();
  readonly #closing = new Set<Promise<void>>();

  constructor(maxOpen: number) {
    this.maxOpen = Math.max(1, Math.floor(maxOpen));
  }

  /** Open handles, including retired ones still in use. */
  get size(): number {
    return this.#entries.size + this.#closing.size;
  }

  /**
   * Runs `fn` with the handle of `fileIndex`, opening it with `open` if needed.
   * A read-only handle is replaced when a writable one is asked for.
   */
  async use<T>(
    fileIndex: number,
    writable: boolean,
    open: (writable: boolean) => Promise<FileHandle>,
    fn: (handle: FileHandle) => Promise<T>,
  ): Promise<T> {
    let entry = this.#entries.get(fileIndex);
    if (entry && writable && !entry.writable) {
      this.#entries.delete(fileIndex);
      this.#retire(entry);
      entry = undefined;
    }
    if (entry) {
      this.#entries.delete(fileIndex);
      this.#entries.set(fileIndex, entry);
    } else {
      const created: Entry = { handle: open(writable), writable, users: 0, retired: false };
      entry = created;
      this.#entries.set(fileIndex, created);
      // A failed open must not stay cached; each user sees the rejection itself.
      created.handle.catch(() => {
        if (this.#entries.get(fileIndex) === created) this.#entries.delete(fileIndex);
      });
      this.#evictOverflow();
    }
    entry.users++;
    try {
      return await fn(await entry.handle);
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) this.#close(entry);
    }
  }

  /** Closes every handle (waiting for users of retired ones to finish first). */
  async closeAll(): Promise<void> {
    for (const entry of this.#entries.values()) this.#retire(entry);
    this.#entries.clear();
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
  }

  #evictOverflow(): void {
    for (const [fileIndex, entry] of this.#entries) {
      if (this.#entries.size <= this.maxOpen) return;
      this.#entries.delete(fileIndex);
      this.#retire(entry);
    }
  }

  #retire(entry: Entry): void {
    entry.retired = true;
    if (entry.users === 0) this.#close(entry);
  }

  #close(entry: Entry): void {
    const closing = entry.handle
      .then((handle) => handle.close())
      .catch(() => {
        // Nothing useful to do: the data was already handed to the OS by pwrite.
      })
      .finally(() => {
        this.#closing.delete(closing);
      });
    this.#closing.add(closing);
  }
}
