/**
 * The `--json` event lines of one event-loop turn, written together: each line used to be its own
 * synchronous `process.stdout.write` (a syscall, and a wait on the reader of a pipe), which cost
 * the 200-peer download ≈ 60 ms of main thread for its `peer-connected`/`peer-disconnected` lines.
 * Lines are queued and written as one string at the end of the turn (`setImmediate`, after the
 * turn's I/O callbacks), so a burst of socket events makes one write.
 *
 * They are never lost on the way out: `flush()` writes what is queued at once, and the process's
 * `exit` event flushes too (`process.exit`, the end of the event loop, an uncaught error); stdout
 * writes to pipes and files are synchronous on Linux, so they complete before the process ends.
 * Error paths that write a line of their own flush first, so the order of lines is kept.
 */
export class LineBatcher {
  readonly #write: (text: string) => void;
  readonly #schedule: (flush: () => void) => void;
  #lines: string[] = [];
  #scheduled = false;

  /** `schedule`: runs the flush at the end of the turn. @default setImmediate */
  constructor(write: (text: string) => void, schedule: (flush: () => void) => void = setImmediate) {
    this.#write = write;
    this.#schedule = schedule;
  }

  /** Queues one line (with its newline). */
  add(line: string): void {
    this.#lines.push(line);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#schedule(this.#scheduledFlush);
  }

  /** Writes every queued line now, in one write. */
  flush(): void {
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? this.#lines[0]! : this.#lines.join('');
    this.#lines = [];
    this.#write(text);
  }

  get pendingLines(): number {
    return this.#lines.length;
  }

  readonly #scheduledFlush = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}

let stdoutLines: LineBatcher | undefined;

/** Queues a line for stdout (the `--json` stream); the first call hooks the flush on exit. */
export function writeJsonLine(line: string): void {
  if (stdoutLines === undefined) {
    const batcher = new LineBatcher((text) => process.stdout.write(text));
    process.on('exit', () => batcher.flush());
    stdoutLines = batcher;
  }
  stdoutLines.add(line);
}

/** Writes the queued `--json` lines now (before a line written another way, e.g. a fatal error). */
export function flushJsonLines(): void {
  stdoutLines?.flush();
}
