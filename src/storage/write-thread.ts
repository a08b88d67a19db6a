import { Worker } from 'node:worker_threads';
import { StorageError } from '../errors.js';
import type { WriteReply, WriteRequest } from './write-worker.js';

export interface WriteThreadOptions {
  /** Worker script; only tests and custom builds need to change it. @default ./write-worker.js */
  workerUrl?: URL;
  /** The thread is ended after this long without writes; the next write starts a new one. @default 10000 */
  idleTimeoutMs?: number;
  /** Queued writes go to the thread once they add up to this many bytes... @default 1 MiB */
  batchBytes?: number;
  /** ...or this long after the first of them was queued. @default 4 */
  batchDelayMs?: number;
}

interface PendingWrite {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Writes to open file descriptors on one worker thread, in order.
 *
 * Why a thread of our own rather than the libuv pool: the worker splits each
 * piece into block-sized write(2) calls (see WRITE_SLICE), which costs the
 * kernel far less than one large call, and one message per piece costs the
 * main thread less than one pool request per block would. Writes to the same
 * file also stop contending for its inode lock. The caller keeps each
 * descriptor open until its write settles, and leaves the bytes unchanged
 * meanwhile (parts on a SharedArrayBuffer are not copied).
 *
 * Writes go to the thread in batches (`batchBytes`, `batchDelayMs`), and it
 * answers each batch with one message: every message wakes a sleeping
 * thread, and on a VM a wake-up and its reply measured ~70 µs of CPU, which
 * one message per piece paid 4096 times per GiB.
 *
 * The thread starts with the first write, holds the process open only while
 * writes are pending, and ends when idle, so one thread can serve every
 * torrent of a process (`sharedWriteThread()`). If it dies, its pending writes
 * reject with StorageError and the next write starts a fresh one.
 */
export class WriteThread {
  readonly #workerUrl: URL;
  readonly #idleTimeoutMs: number;
  readonly #batchBytes: number;
  readonly #batchDelayMs: number;
  readonly #pending = new Map<number, PendingWrite>();
  /** Written by nobody yet: the batch being gathered. */
  #queue: WriteRequest[] = [];
  #queuedBytes = 0;
  #batchTimer: NodeJS.Timeout | undefined;
  #batchesSent = 0;
  #worker: Worker | undefined;
  #lastError: unknown;
  #idleTimer: NodeJS.Timeout | undefined;
  #nextId = 1;

  constructor(options: WriteThreadOptions = {}) {
    this.#workerUrl = options.workerUrl ?? new URL('./write-worker.js', import.meta.url);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.#batchBytes = options.batchBytes ?? 1024 * 1024;
    this.#batchDelayMs = options.batchDelayMs ?? 4;
  }

  /** Whether the worker thread is running (tests, diagnostics). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Messages sent to the thread so far, each a batch of writes (tests, diagnostics). */
  get batchesSent(): number {
    return this.#batchesSent;
  }

  /**
   * Writes the parts back to back at `position` of `fd`. Rejects with an
   * Error carrying the system error's `code` (ENOSPC, EIO, ...).
   */
  write(fd: number, position: number, parts: Uint8Array[]): Promise<void> {
    const worker = this.#worker ?? this.#spawn();
    const id = this.#nextId++;
    const request: WriteRequest = { id, fd, position, parts };
    return new Promise<void>((resolve, reject) => {
      if (this.#pending.size === 0) worker.ref();
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
      this.#pending.set(id, { resolve, reject });
      this.#queue.push(request);
      for (const part of parts) this.#queuedBytes += part.byteLength;
      if (this.#queuedBytes >= this.#batchBytes) this.#sendBatch();
      else this.#batchTimer ??= setTimeout(() => this.#sendBatch(), this.#batchDelayMs);
    });
  }

  #sendBatch(): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#batchesSent++;
    // Queued writes are pending, and a worker that ends with writes pending fails them and
    // empties the queue, so one is running here; spawning keeps that from being load-bearing.
    (this.#worker ?? this.#spawn()).postMessage(batch);
  }

  /** Ends the thread now (pending writes reject with LODESTONE_ERR_ABORTED); a later write starts another. */
  async close(): Promise<void> {
    clearTimeout(this.#idleTimer);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failPending(new StorageError('write thread closed', 'LODESTONE_ERR_ABORTED'));
    if (worker) await worker.terminate();
  }

  #spawn(): Worker {
    const worker = new Worker(this.#workerUrl);
    worker.unref();
    this.#lastError = undefined;
    worker.on('message', (replies: WriteReply[]) => {
      for (const reply of replies) this.#onReply(worker, reply);
    });
    worker.on('error', (error) => {
      this.#lastError = error;
    });
    worker.on('exit', (code) => this.#onExit(worker, code));
    this.#worker = worker;
    return worker;
  }

  #onReply(worker: Worker, reply: WriteReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) {
      worker.unref();
      this.#retireWhenIdle(worker);
    }
    if (reply.error === undefined) pending.resolve();
    else pending.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
  }

  #retireWhenIdle(worker: Worker): void {
    this.#idleTimer = setTimeout(() => {
      if (this.#worker !== worker || this.#pending.size > 0) return;
      this.#worker = undefined; // before terminate(): its exit is then not a crash
      void worker.terminate();
    }, this.#idleTimeoutMs);
    this.#idleTimer.unref();
  }

  #onExit(worker: Worker, code: number): void {
    if (this.#worker !== worker) return; // retired or closed: nothing was pending
    this.#worker = undefined;
    clearTimeout(this.#idleTimer);
    const reason = this.#lastError instanceof Error ? `: ${this.#lastError.message}` : '';
    this.#failPending(
      new StorageError(`write thread exited with code ${code}${reason}`, 'LODESTONE_ERR_STORAGE', {
        cause: this.#lastError,
      }),
    );
  }

  #failPending(error: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const write of pending) write.reject(error);
  }
}

let shared: WriteThread | undefined;

/** The process-wide WriteThread that FileStorage uses by default (one disk writer, however many torrents). */
export function sharedWriteThread(): WriteThread {
  shared ??= new WriteThread();
  return shared;
}
