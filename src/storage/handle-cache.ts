import type { FileHandle } from 'node:fs/promises';
import { type HandleBudget, type IdleHandleHolder, sharedHandleBudget } from './handle-budget.js';

interface Entry {
  handle: Promise<FileHandle>;
  writable: boolean;
  /** Operations currently using the handle; it is closed only when this drops to 0. */
  users: number;
  /** Out of the cache (evicted, or replaced by a writable handle): close when unused. */
  retired: boolean;
  /** The open succeeded: closing this entry gives a slot back. */
  opened: boolean;
  /** When its last user finished (the budget's clock). */
  lastUsed: number;
}

/**
 * A small LRU of open file handles, keyed by file index.
 *
 * Handles are shared by concurrent operations: positional reads and writes
 * (pread/pwritev) need no ordering between each other, so the only thing to
 * serialise is the handle's lifecycle. Each use counts as a user; an evicted
 * handle is retired and closed only after its last user finishes, so a write
 * never races a close.
 *
 * Every open handle holds a slot of a HandleBudget shared by the process
 * (from before its open until its close has finished), so the files open at
 * once never exceed the budget's limit, whatever the number of caches or of
 * files a piece spans: an operation that finds no free slot waits for one.
 * `maxOpen` only bounds the idle handles this cache keeps for reuse; while
 * others wait for a slot, a handle is closed as soon as it is idle.
 */
export class HandleCache implements IdleHandleHolder {
  readonly maxOpen: number;
  readonly budget: HandleBudget;
  /** Map order is recency order: the first entry is the least recently used. */
  readonly #entries = new Map<number, Entry>();
  readonly #closing = new Set<Promise<void>>();

  constructor(maxOpen: number, budget: HandleBudget = sharedHandleBudget()) {
    this.maxOpen = Math.max(1, Math.floor(maxOpen));
    this.budget = budget;
  }

  /** Open handles, including retired ones still in use. */
  get size(): number {
    return this.#entries.size + this.#closing.size;
  }

  /**
   * Runs `fn` with the handle of `fileIndex`, opening it with `open` if needed
   * (after taking a slot of the budget, which may mean waiting for one).
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
      const created: Entry = {
        handle: this.#open(writable, open),
        writable,
        users: 0,
        retired: false,
        opened: false,
        lastUsed: this.budget.clock.now(),
      };
      entry = created;
      created.handle.then(
        () => {
          created.opened = true;
        },
        () => undefined,
      );
      this.#entries.set(fileIndex, created);
      this.budget.addHolder(this);
      // A failed open must not stay cached; each user sees the rejection itself.
      created.handle.catch(() => {
        if (this.#entries.get(fileIndex) === created) this.#delete(fileIndex);
      });
      this.#evictOverflow();
    }
    entry.users++;
    try {
      return await fn(await entry.handle);
    } finally {
      entry.users--;
      if (entry.users === 0) {
        entry.lastUsed = this.budget.clock.now();
        // Someone waits for a slot: give this one back now rather than keep it idle.
        if (!entry.retired && this.budget.contended && this.#entries.get(fileIndex) === entry) {
          this.#delete(fileIndex);
          entry.retired = true;
        }
        if (entry.retired) this.#close(entry);
      }
    }
  }

  /** Closes every handle (waiting for users of retired ones to finish first). */
  async closeAll(): Promise<void> {
    for (const entry of this.#entries.values()) this.#retire(entry);
    this.#entries.clear();
    this.budget.removeHolder(this);
    while (this.#closing.size > 0) await Promise.all([...this.#closing]);
  }

  /** IdleHandleHolder: closes the least recently used idle handle, if any. */
  closeOneIdle(): boolean {
    for (const [fileIndex, entry] of this.#entries) {
      if (entry.users > 0 || !entry.opened) continue;
      this.#delete(fileIndex);
      this.#retire(entry);
      return true;
    }
    return false;
  }

  /** IdleHandleHolder: closes the idle handles last used at or before `cutoff`. */
  closeIdleSince(cutoff: number): number {
    let closed = 0;
    for (const [fileIndex, entry] of this.#entries) {
      if (entry.users > 0 || !entry.opened || entry.lastUsed > cutoff) continue;
      this.#delete(fileIndex);
      this.#retire(entry);
      closed++;
    }
    return closed;
  }

  async #open(writable: boolean, open: (writable: boolean) => Promise<FileHandle>): Promise<FileHandle> {
    await this.budget.acquire();
    try {
      return await open(writable);
    } catch (error) {
      this.budget.release();
      throw error;
    }
  }

  #delete(fileIndex: number): void {
    this.#entries.delete(fileIndex);
    if (this.#entries.size === 0) this.budget.removeHolder(this);
  }

  #evictOverflow(): void {
    for (const [fileIndex, entry] of this.#entries) {
      if (this.#entries.size <= this.maxOpen) return;
      this.#delete(fileIndex);
      this.#retire(entry);
    }
  }

  #retire(entry: Entry): void {
    entry.retired = true;
    if (entry.users === 0) this.#close(entry);
  }

  #close(entry: Entry): void {
    const closing = entry.handle
      .then(
        (handle) =>
          handle.close().then(
            () => this.budget.release(),
            // Nothing useful to do: the data was already handed to the OS by pwrite.
            // A failed close(2) still frees the descriptor.
            () => this.budget.release(),
          ),
        // The open failed: its slot was given back there.
        () => undefined,
      )
      .finally(() => {
        this.#closing.delete(closing);
      });
    this.#closing.add(closing);
  }
}
