import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { StorageError } from '../errors.js';
import type { HashReply, HashRequest } from './hash-worker.js';
import { copyIntoShared } from './shared-memory.js';

const DIGEST_LENGTH = 20;
/** Jobs posted to one worker before it answers; 2 hides the message round trip. */
const PIPELINE_DEPTH = 2;
/** Shared buffers are allocated in steps of this size so slightly different pieces reuse one. */
const SLAB_GRANULARITY = 64 * 1024;
/** Larger buffers are used once and dropped, so a pool never pins pieces' worth of memory per worker. */
const MAX_RETAINED_SLAB = 4 * 1024 * 1024;

export interface HashPoolOptions {
  /** Worker threads. @default os.availableParallelism() (at least 1) */
  workers?: number;
  /** Worker script; only tests and custom builds need to change it. @default ./hash-worker.js */
  workerUrl?: URL;
  /**
   * A worker idle this long is ended (a thread's V8 heap is ~10 MB of RSS);
   * the next job starts a new one. @default 10000
   */
  idleTimeoutMs?: number;
}

interface Job {
  blocks: readonly Uint8Array[];
  length: number;
  resolve(digest: Buffer): void;
  reject(error: unknown): void;
}

interface InFlight {
  job: Job;
  /** The worker's shared copy of the job's blocks, returned for reuse. */
  slab: SharedArrayBuffer;
}

interface WorkerSlot {
  worker: Worker;
  inFlight: Map<number, InFlight>;
  /** Reusable shared buffers of this worker (at most PIPELINE_DEPTH). */
  freeSlabs: SharedArrayBuffer[];
  lastError?: unknown;
  idleTimer?: NodeJS.Timeout | undefined;
}

/** Synchronous SHA-1 over blocks in order, for small inputs where a thread hop costs more than it saves. */
export function sha1(blocks: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha1');
  for (const block of blocks) hash.update(block);
  return hash.digest();
}

/**
 * SHA-1 off the main thread on a small pool of worker threads.
 *
 * Transfer design: only SharedArrayBuffer references cross threads, never
 * bytes. A job's blocks (which usually share ArrayBuffers with other data,
 * such as Buffer pools or file reads, so they cannot be transferred) are
 * copied once into a shared slab of the worker, reused across jobs (up to
 * PIPELINE_DEPTH slabs of at most 4 MiB each). The 20-byte digest comes back
 * in the reply message.
 *
 * Dispatch: jobs wait in one FIFO queue on the main thread and go to an idle
 * worker first (spawning one lazily up to `workers`), else to the least busy
 * one with fewer than PIPELINE_DEPTH jobs. Workers are ref()'d only while they
 * have work, so an idle pool never keeps the process alive while a pending
 * `await pool.hash()` still does. A crashed worker rejects its jobs with
 * StorageError and is replaced on the next dispatch.
 */
export class HashPool {
  readonly size: number;
  readonly #workerUrl: URL;
  readonly #idleTimeoutMs: number;
  readonly #slots: WorkerSlot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 1;
  #destroyed = false;

  constructor(options: HashPoolOptions = {}) {
    const requested = options.workers ?? availableParallelism();
    this.size = Math.max(1, Math.floor(Number.isFinite(requested) ? requested : 1));
    this.#workerUrl = options.workerUrl ?? new URL('./hash-worker.js', import.meta.url);
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
  }

  /** Live worker threads (started with the first jobs, ended when idle). */
  get workerCount(): number {
    return this.#slots.length;
  }

  /** Jobs waiting for a worker plus jobs being hashed. */
  get pending(): number {
    let count = this.#queue.length;
    for (const slot of this.#slots) count += slot.inFlight.size;
    return count;
  }

  /**
   * SHA-1 (20 bytes) of the blocks concatenated in order. The blocks are only
   * read, and only when a worker takes the job: leave them unchanged until the
   * promise settles (queued jobs hold no copy, so waiting costs no memory).
   */
  hash(blocks: readonly Uint8Array[]): Promise<Buffer> {
    if (this.#destroyed)
      return Promise.reject(new StorageError('hash pool destroyed', 'LODESTONE_ERR_ABORTED'));
    let length = 0;
    for (const block of blocks) length += block.byteLength;
    return new Promise<Buffer>((resolve, reject) => {
      this.#queue.push({ blocks, length, resolve, reject });
      this.#pump();
    });
  }

  /** Terminates the workers; pending and later jobs reject with LODESTONE_ERR_ABORTED. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const error = new StorageError('hash pool destroyed', 'LODESTONE_ERR_ABORTED');
    for (const job of this.#queue.splice(0)) job.reject(error);
    const slots = this.#slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.idleTimer);
      for (const { job } of slot.inFlight.values()) job.reject(error);
      slot.inFlight.clear();
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#destroyed) {
      const slot = this.#chooseSlot();
      if (!slot) return;
      this.#dispatch(slot, this.#queue.shift()!);
    }
  }

  #chooseSlot(): WorkerSlot | undefined {
    let best: WorkerSlot | undefined;
    for (const slot of this.#slots) {
      if (slot.inFlight.size === 0) return slot;
      if (slot.inFlight.size < PIPELINE_DEPTH && (!best || slot.inFlight.size < best.inFlight.size)) {
        best = slot;
      }
    }
    // Every live worker is busy: a new thread beats pipelining onto a busy one.
    if (this.#slots.length < this.size) return this.#spawn();
    return best;
  }

  #spawn(): WorkerSlot {
    const worker = new Worker(this.#workerUrl);
    worker.unref();
    const slot: WorkerSlot = { worker, inFlight: new Map(), freeSlabs: [] };
    worker.on('message', (reply: HashReply) => this.#onReply(slot, reply));
    worker.on('error', (error) => {
      slot.lastError = error;
    });
    worker.on('messageerror', (error) => {
      slot.lastError = error;
    });
    worker.on('exit', (code) => this.#onExit(slot, code));
    this.#slots.push(slot);
    return slot;
  }

  #dispatch(slot: WorkerSlot, job: Job): void {
    const id = this.#nextId++;
    const slab = this.#takeSlab(slot, job.length);
    const view = Buffer.from(slab);
    let offset = 0;
    for (const block of job.blocks) {
      copyIntoShared(view, block, offset);
      offset += block.byteLength;
    }
    const request: HashRequest = { id, buffer: slab, length: job.length };
    if (slot.inFlight.size === 0) slot.worker.ref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.inFlight.set(id, { job, slab });
    slot.worker.postMessage(request);
  }

  #takeSlab(slot: WorkerSlot, length: number): SharedArrayBuffer {
    const needed = Math.max(length, DIGEST_LENGTH);
    const index = slot.freeSlabs.findIndex((slab) => slab.byteLength >= needed);
    if (index >= 0) return slot.freeSlabs.splice(index, 1)[0]!;
    return new SharedArrayBuffer(Math.ceil(needed / SLAB_GRANULARITY) * SLAB_GRANULARITY);
  }

  #returnSlab(slot: WorkerSlot, slab: SharedArrayBuffer): void {
    if (slab.byteLength > MAX_RETAINED_SLAB) return;
    slot.freeSlabs.push(slab);
    if (slot.freeSlabs.length > PIPELINE_DEPTH) {
      // Keep the largest ones: they fit every piece the smaller ones fit.
      slot.freeSlabs.sort((a, b) => b.byteLength - a.byteLength).length = PIPELINE_DEPTH;
    }
  }

  #onReply(slot: WorkerSlot, reply: HashReply): void {
    const entry = slot.inFlight.get(reply.id);
    if (!entry) return;
    slot.inFlight.delete(reply.id);
    if (slot.inFlight.size === 0) slot.worker.unref();
    const digest = Buffer.from(reply.digest.buffer, reply.digest.byteOffset, DIGEST_LENGTH);
    this.#returnSlab(slot, entry.slab);
    entry.job.resolve(digest);
    this.#pump();
    if (slot.inFlight.size === 0 && !this.#destroyed) this.#retireWhenIdle(slot);
  }

  #retireWhenIdle(slot: WorkerSlot): void {
    slot.idleTimer = setTimeout(() => {
      const index = this.#slots.indexOf(slot);
      if (index < 0 || slot.inFlight.size > 0) return;
      this.#slots.splice(index, 1); // before terminate(): its exit is then not a crash
      void slot.worker.terminate();
    }, this.#idleTimeoutMs);
    slot.idleTimer.unref();
  }

  #onExit(slot: WorkerSlot, code: number): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return; // destroyed: jobs were already rejected
    this.#slots.splice(index, 1);
    const reason = slot.lastError instanceof Error ? `: ${slot.lastError.message}` : '';
    const error = new StorageError(`hash worker exited with code ${code}${reason}`, 'LODESTONE_ERR_STORAGE', {
      cause: slot.lastError,
    });
    for (const { job } of slot.inFlight.values()) job.reject(error);
    slot.inFlight.clear();
    // Queued jobs get a fresh worker; jobs only fail if their own worker dies.
    this.#pump();
  }
}
