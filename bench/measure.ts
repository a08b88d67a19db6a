/**
 * What the benchmark measures about a running client, from outside: CPU time
 * and peak memory read from /proc (Linux only), wall time, and whether the
 * downloaded files are byte-identical to the original (size + SHA-1). Also
 * the small shared pieces: a cleanup registry, polling, size parsing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A benchmark-level failure (bad arguments, a missing tool, a client that never finished). */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (the unit of utime/stime in /proc/<pid>/stat), normally 100. */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcessSample {
  /** utime + stime of the process and of its children it has waited for (cutime + cstime). */
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** VmHWM: the peak resident set size of the process so far. */
  peakRssBytes: number;
}

/**
 * A `/proc/<pid>/stat` (or `task/<tid>/stat`) line's field `n` (1-based, as in proc(5)) in seconds:
 * utime 14, stime 15, cutime 16, cstime 17.
 */
function statSeconds(statText: string): (field: number) => number {
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state).
  return (field) => Number(fields[field - 3] ?? 0) / clockTicksPerSecond();
}

/** CPU seconds (user + system) of thread `tid` of `pid` (the main thread's id is the pid). */
export async function threadCpuSeconds(pid: number, tid = pid): Promise<number | undefined> {
  try {
    const seconds = statSeconds(await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    return seconds(14) + seconds(15);
  } catch {
    return undefined;
  }
}

/** A sample that must exist: the process exited before it could be measured otherwise. */
export function mustSample(sample: ProcessSample | undefined, kind: string): ProcessSample {
  if (sample === undefined) throw new BenchError(`${kind} exited before it could be measured`);
  return sample;
}

/**
 * CPU and peak RSS of `pid` right now; undefined if the process is gone. Worker
 * threads are part of the process, so a Node client's hashing threads count.
 */
export async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  let statText: string;
  let statusText: string;
  try {
    [statText, statusText] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
  } catch {
    return undefined;
  }
  const seconds = statSeconds(statText);
  const userSeconds = seconds(14) + seconds(16);
  const systemSeconds = seconds(15) + seconds(17);
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(statusText);
  return {
    cpuSeconds: userSeconds + systemSeconds,
    userSeconds,
    systemSeconds,
    peakRssBytes: Number(hwm?.[1] ?? 0) * 1024,
  };
}

export async function sha1OfFile(path: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface ExpectedFile {
  /** Path under the download folder, e.g. 'bench-1GiB.bin' or 'bench-1GiB/part-1.bin'. */
  path: string;
  size: number;
  sha1: string;
}

/**
 * Checks every file under `outDir` against its size and SHA-1. Returns the
 * first difference, or undefined when the download is byte-identical.
 */
export async function verifyDownload(outDir: string, expected: ExpectedFile[]): Promise<string | undefined> {
  for (const file of expected) {
    const path = join(outDir, file.path);
    const size = await stat(path).then(
      (info) => info.size,
      () => undefined,
    );
    if (size === undefined) return `${file.path} is missing`;
    if (size !== file.size) return `${file.path} has ${size} bytes, expected ${file.size}`;
    // Small files (a many-files torrent has 100,000 of them) in one read, not a stream each.
    const sha1 =
      file.size <= 4 * MiB
        ? createHash('sha1')
            .update(await readFile(path))
            .digest('hex')
        : await sha1OfFile(path);
    if (sha1 !== file.sha1) return `${file.path} differs from the original (SHA-1)`;
  }
  return undefined;
}

/** '256MiB', '1GiB', '64M', '1g', '1048576' → bytes. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (match === null) throw new BenchError(`not a size: "${text}" (try 256MiB or 1GiB)`);
  const power = ' kmgt'.indexOf((match[2] ?? '').toLowerCase() || ' ');
  const bytes = Math.round(Number(match[1]) * 1024 ** power);
  if (!(bytes > 0)) throw new BenchError(`size must be positive: "${text}"`);
  return bytes;
}

export function formatSize(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB}GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024}KiB`;
  return `${bytes}B`;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `intervalMs` until it returns a value (not undefined).
 * `failure` is asked on each round for a reason to give up at once (the client
 * died); on timeout the error carries `describe()`.
 */
export async function pollFor<T>(
  what: string,
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
  failure: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    const reason = failure();
    if (reason !== undefined) throw new BenchError(`${what}: ${reason}`);
    if (Date.now() > deadline) throw new BenchError(`${what}: timed out after ${timeoutMs / 1000} s`);
    await delay(intervalMs);
  }
}

/**
 * Everything to undo, newest first: client stops, temp folders. A step runs
 * once, whether through the function add() returns or through run(); run()
 * also waits for steps someone else already started, so when it resolves
 * (normal end, failure or Ctrl-C) nothing is left running.
 */
export class Cleanup {
  readonly #steps = new Map<
    number,
    { what: string; step: () => Promise<unknown>; running?: Promise<unknown> }
  >();
  #next = 0;
  #closed = false;

  /**
   * Registers `step`; call the returned function to run it early. After run()
   * began (Ctrl-C), a late registration runs at once.
   */
  add(what: string, step: () => Promise<unknown>): () => Promise<void> {
    if (this.#closed) {
      const running = step();
      return async () => {
        await running;
      };
    }
    const id = this.#next++;
    this.#steps.set(id, { what, step });
    return async () => {
      await this.#start(id);
    };
  }

  #start(id: number): Promise<unknown> {
    const entry = this.#steps.get(id);
    if (entry === undefined) return Promise.resolve();
    entry.running ??= entry.step().finally(() => this.#steps.delete(id));
    return entry.running;
  }

  async run(): Promise<string[]> {
    this.#closed = true;
    const problems: string[] = [];
    const ids = [...this.#steps.keys()].sort((a, b) => b - a);
    for (const id of ids) {
      const what = this.#steps.get(id)?.what;
      try {
        await this.#start(id);
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message}`);
      }
    }
    return problems;
  }
}
