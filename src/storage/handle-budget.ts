import { readFileSync } from 'node:fs';

/** Something holding idle open files that it can close when asked (a HandleCache). */
export interface IdleHandleHolder {
  /** Closes its least recently used idle handle (asynchronously); false when it has none. */
  closeOneIdle(): boolean;
}

/** The budget of a process when nothing is known about its limits. */
export const DEFAULT_MAX_OPEN_FILES = 128;

/**
 * A count of open files shared by every FileStorage of a process (a semaphore):
 * each open file takes one slot from before its open until after its close,
 * so the files a process holds never exceed `limit`, however many torrents,
 * pieces or files per piece are in flight. A caller who finds no free slot
 * first asks the holders of idle handles to close one, then waits its turn
 * (FIFO). It never deadlocks as long as nobody holds two slots while waiting
 * for a third: FileStorage takes one slot per file operation. See docs/many-files.md.
 */
export class HandleBudget {
  readonly limit: number;
  #used = 0;
  #peak = 0;
  readonly #waiters: (() => void)[] = [];
  readonly #holders = new Set<IdleHandleHolder>();

  constructor(limit: number) {
    this.limit = Math.max(1, Math.floor(limit));
  }

  /** Slots taken now (open files, including those being opened or closed). */
  get used(): number {
    return this.#used;
  }

  /** Most slots ever taken at once. */
  get peak(): number {
    return this.#peak;
  }

  /** Whether someone is waiting for a slot (a holder should then close idle handles). */
  get contended(): boolean {
    return this.#waiters.length > 0;
  }

  /** Takes a slot, waiting (after asking idle holders to give one back) if none is free. */
  acquire(): Promise<void> {
    if (this.#used < this.limit && this.#waiters.length === 0) {
      this.#take();
      return Promise.resolve();
    }
    const waiting = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#reclaim();
    return waiting;
  }

  /** Gives a slot back (after the file is closed, or its open failed). */
  release(): void {
    this.#used--;
    const next = this.#waiters.shift();
    if (next) {
      this.#take();
      next();
    }
  }

  /** Registers a holder of idle handles (it unregisters when it holds none). */
  addHolder(holder: IdleHandleHolder): void {
    this.#holders.add(holder);
  }

  removeHolder(holder: IdleHandleHolder): void {
    this.#holders.delete(holder);
  }

  #take(): void {
    this.#used++;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  /** One idle handle closed per waiter beyond those already being closed. */
  #reclaim(): void {
    for (const holder of this.#holders) {
      if (holder.closeOneIdle()) return;
    }
  }
}

/**
 * The soft limit on open files of this process (RLIMIT_NOFILE), from
 * /proc/self/limits; undefined where that cannot be read (not Linux).
 * Node raises the soft limit to the hard one at startup, so this is usually
 * the hard limit the process was started with.
 */
export function softOpenFileLimit(
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)\s+/m.exec(read('/proc/self/limits'));
    if (!line) return undefined;
    return line[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(line[1]);
  } catch {
    return undefined;
  }
}

/**
 * The default budget: DEFAULT_MAX_OPEN_FILES, or a quarter of the soft limit
 * when that is lower (sockets, pipes and Node's own descriptors need the rest),
 * but at least 8.
 */
export function defaultMaxOpenFiles(softLimit = softOpenFileLimit()): number {
  if (softLimit === undefined) return DEFAULT_MAX_OPEN_FILES;
  return Math.max(8, Math.min(DEFAULT_MAX_OPEN_FILES, Math.floor(softLimit / 4)));
}

let shared: HandleBudget | undefined;

/** The process-wide budget every FileStorage uses unless given its own. */
export function sharedHandleBudget(): HandleBudget {
  shared ??= new HandleBudget(defaultMaxOpenFiles());
  return shared;
}
