/**
 * RC4 keystream generated ahead on a worker thread (one for the whole process), into one shared
 * ring per connection direction (keystream-ring.ts), so the main thread only XORs. The pool
 * starts its worker with the first ring and ends it when the last ring closes; the worker is
 * unref'd, so it never keeps the process alive. Memory is bounded: at most `maxRings` rings of
 * `blocks × blockSize` bytes each; past that, `open` returns undefined and the connection keeps
 * its in-thread RC4. If the worker dies, the pool refuses new rings and open rings simply stop
 * filling: their readers (WorkerFedRc4) continue in-thread from the exact position.
 */
import { Worker } from 'node:worker_threads';
import {
  CLOSED,
  CONSUMED,
  type KeystreamRequest,
  PRODUCED,
  type RingShape,
  type RingViews,
  ringBytes,
  ringViews,
} from './keystream-ring.js';
import { RC4_STATE_LENGTH } from './rc4.js';

export interface KeystreamPoolOptions {
  /** Worker script; only tests and custom builds change it. @default ./keystream-worker.js */
  workerUrl?: URL;
  /** Keystream bytes per block, a multiple of 4. @default 65536 */
  blockSize?: number;
  /** Blocks per ring: the look-ahead is blocks × blockSize. @default 16 */
  blocks?: number;
  /** Rings open at once. @default 64 */
  maxRings?: number;
}

/** One direction's keystream from the worker: blocks to read, and their release. */
export class KeystreamRing {
  readonly shape: RingShape;
  readonly views: RingViews;
  readonly #post: (request: KeystreamRequest) => void;
  readonly #onClose: () => void;
  readonly #id: number;
  #consumed = 0;
  #closed = false;

  constructor(
    id: number,
    shape: RingShape,
    views: RingViews,
    post: (request: KeystreamRequest) => void,
    onClose: () => void,
  ) {
    this.#id = id;
    this.shape = shape;
    this.views = views;
    this.#post = post;
    this.#onClose = onClose;
  }

  /** Blocks the worker has published (block n is readable when n < produced). */
  get produced(): number {
    return Atomics.load(this.views.control, PRODUCED);
  }

  /** Blocks before `consumed` will not be read again: the worker may reuse their slots. */
  release(consumed: number): void {
    if (this.#closed || consumed <= this.#consumed) return;
    // Wake the worker each half ring: it stops when the ring is full and waits for this.
    const half = Math.max(1, this.shape.blocks >> 1);
    const wake = Math.floor(consumed / half) !== Math.floor(this.#consumed / half);
    this.#consumed = consumed;
    Atomics.store(this.views.control, CONSUMED, consumed);
    if (wake) this.#post({ type: 'more', id: this.#id });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.views.control, CLOSED, 1);
    this.#post({ type: 'close', id: this.#id });
    this.#onClose();
  }
}

export class KeystreamPool {
  readonly #workerUrl: URL;
  readonly #shape: RingShape;
  readonly #maxRings: number;
  readonly #rings = new Set<KeystreamRing>();
  #worker: Worker | undefined;
  #failed = false;
  #destroyed = false;
  #nextId = 1;

  constructor(options: KeystreamPoolOptions = {}) {
    this.#workerUrl = options.workerUrl ?? new URL('./keystream-worker.js', import.meta.url);
    const blockSize = options.blockSize ?? 65536;
    if (!(blockSize > 0 && blockSize % 4 === 0)) throw new RangeError('blockSize: a positive multiple of 4');
    this.#shape = { blockSize, blocks: Math.max(1, options.blocks ?? 16) };
    this.#maxRings = options.maxRings ?? 64;
  }

  /** Whether the worker died (then no new ring opens). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Rings open now. */
  get openRings(): number {
    return this.#rings.size;
  }

  /** Whether a worker thread is running. */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /**
   * A ring whose keystream continues from `state` (Rc4.copyState), or undefined when the pool
   * is full, failed or destroyed (the caller keeps its in-thread RC4).
   */
  open(state: Int32Array): KeystreamRing | undefined {
    if (this.#failed || this.#destroyed || this.#rings.size >= this.#maxRings) return undefined;
    const worker = this.#worker ?? this.#spawn();
    if (!worker) return undefined;
    const id = this.#nextId++;
    const buffer = new SharedArrayBuffer(ringBytes(this.#shape));
    const post = (request: KeystreamRequest): void => {
      if (this.#worker === worker) worker.postMessage(request);
    };
    const ring: KeystreamRing = new KeystreamRing(id, this.#shape, ringViews(buffer, this.#shape), post, () =>
      this.#ringClosed(ring),
    );
    this.#rings.add(ring);
    post({ type: 'open', id, buffer, shape: this.#shape, state: state.slice(0, RC4_STATE_LENGTH) });
    return ring;
  }

  /** Closes every ring and ends the worker; the pool opens no ring afterwards. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    for (const ring of [...this.#rings]) ring.close();
    await this.#stop();
  }

  #spawn(): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.#workerUrl);
    } catch {
      this.#failed = true;
      return undefined;
    }
    worker.unref();
    const lost = (): void => {
      if (this.#worker !== worker) return;
      // A crash: open rings stop filling and their readers continue in-thread.
      this.#worker = undefined;
      this.#failed = true;
    };
    worker.on('error', lost);
    worker.on('messageerror', lost);
    worker.on('exit', lost);
    this.#worker = worker;
    return worker;
  }

  #ringClosed(ring: KeystreamRing): void {
    this.#rings.delete(ring);
    if (this.#rings.size === 0) void this.#stop();
  }

  async #stop(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker) await worker.terminate();
  }
}

let shared: KeystreamPool | undefined;

/** The process's pool, made on first use (its worker starts only with a ring). */
export function sharedKeystreamPool(): KeystreamPool {
  shared ??= new KeystreamPool();
  return shared;
}
