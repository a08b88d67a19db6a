import { readFileSync } from 'node:fs';
import { type Clock, systemClock } from '../clock.js';

/** Something holding idle open files that it can close when asked (a HandleCache). */
export interface IdleHandleHolder {
  /** Closes its least recently used idle handle (asynchronously); false when it has none. */
  closeOneIdle(): boolean;
  /** Closes every idle handle last used at or before `cutoff` (clock ms); how many it closed. */
  closeIdleSince(cutoff: number): number;
}

/** The budget of a process when nothing is known about its limits. */
export const DEFAULT_MAX_OPEN_FILES = 128;

/** A handle unused this long is closed (a torrent at rest holds no files). */
export const DEFAULT_IDLE_CLOSE_MS = 10_000;

export interface HandleBudgetOptions {
  /** Time for the idle sweep. @default systemClock */
  clock?: Clock;
  /** Handles unused this long are closed by a sweep every quarter of it; 0 keeps them. @default 10 s */
  idleCloseMs?: number;
}

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
  #limit: number;
  #used = 0;
  #peak = 0;
  readonly #waiters: (() => void)[] = [];
  readonly #holders = new Set<IdleHandleHolder>();
  readonly clock: Clock;
  readonly idleCloseMs: number;
  #sweep: unknown;
  #idleClosed = 0;

  constructor(limit: number, options: HandleBudgetOptions = {}) {
    this.#limit = Math.max(1, Math.floor(limit));
    this.clock = options.clock ?? systemClock;
    this.idleCloseMs = Math.max(0, options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS);
  }

  /** The most files open at once. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Changes the bound, live. Raised: waiters get the new slots at once. Lowered: idle handles are
   * closed down to it; files in use are closed as their operations end, none opens meanwhile.
   */
  setLimit(limit: number): void {
    this.#limit = Math.max(1, Math.floor(limit));
    while (this.#used < this.#limit && this.#waiters.length > 0) {
      this.#take();
      this.#waiters.shift()!();
    }
    for (let over = this.#used - this.#limit; over > 0; over--) if (!this.#reclaimOne()) break;
  }

  /** Handles closed so far because they were idle (the sweep). */
  get idleClosed(): number {
    return this.#idleClosed;
  }

  /**
   * Closes every handle unused for `idleCloseMs` (what the sweep runs); how many it closed.
   * Returns 0 when idle closing is off.
   */
  closeIdle(): number {
    if (this.idleCloseMs === 0) return 0;
    const cutoff = this.clock.now() - this.idleCloseMs;
    let closed = 0;
    for (const holder of [...this.#holders]) closed += holder.closeIdleSince(cutoff);
    this.#idleClosed += closed;
    return closed;
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
    if (this.#used < this.#limit && this.#waiters.length === 0) {
      this.#take();
      return Promise.resolve();
    }
    const waiting = new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#reclaimOne();
    return waiting;
  }

  /** Gives a slot back (after the file is closed, or its open failed). */
  release(): void {
    this.#used--;
    // A lowered limit: the slot is not handed on until the count is under it.
    if (this.#used >= this.#limit) return;
    const next = this.#waiters.shift();
    if (next) {
      this.#take();
      next();
    }
  }

  /** Registers a holder of idle handles (it unregisters when it holds none); arms the idle sweep. */
  addHolder(holder: IdleHandleHolder): void {
    this.#holders.add(holder);
    this.#armSweep();
  }

  removeHolder(holder: IdleHandleHolder): void {
    this.#holders.delete(holder);
  }

  /** One timer while someone holds handles: a sweep every quarter of the idle time. */
  #armSweep(): void {
    if (this.idleCloseMs === 0 || this.#sweep !== undefined) return;
    this.#sweep = this.clock.setTimeout(
      () => {
        this.#sweep = undefined;
        this.closeIdle();
        if (this.#holders.size > 0) this.#armSweep();
      },
      Math.max(1000, Math.floor(this.idleCloseMs / 4)),
    );
  }

  #take(): void {
    this.#used++;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  /** Asks the holders for one idle handle (one per waiter, or per slot over a lowered limit). */
  #reclaimOne(): boolean {
    for (const holder of this.#holders) {
      if (holder.closeOneIdle()) return true;
    }
    return false;
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
