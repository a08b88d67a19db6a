/**
 * One direction of an RC4 connection that starts in-thread and, once it has moved
 * `threshold` bytes, takes its keystream from a KeystreamPool ring (generated ahead on a
 * worker), so the main thread only XORs. The byte stream is the same as the in-thread Rc4's
 * at every chunk boundary:
 * - the ring starts at the exact position of the hand-over (the worker gets the state);
 * - when the ring has no block for the current position (the worker is behind, busy or dead),
 *   this continues in-thread from the start state of the last block it read (kept as a copy)
 *   plus the bytes read since, and returns to the ring once the ring is ahead again.
 * It never waits for the worker.
 */
import type { KeystreamPool, KeystreamRing } from './keystream-pool.js';
import { RC4_STATE_LENGTH, Rc4 } from './rc4.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** What MseStream needs of a cipher direction (Rc4 has it). */
export interface StreamCipher {
  process(data: Uint8Array, start?: number, end?: number): void;
}

/** @default threshold: 1 MiB */
export const WORKER_THRESHOLD = 1024 * 1024;

export class WorkerFedRc4 implements StreamCipher {
  readonly #pool: KeystreamPool;
  readonly #threshold: number;
  /** Valid at the current position while #inThread. */
  #rc4: Rc4;
  #inThread = true;
  /** Bytes processed before the ring opened. */
  #moved = 0;
  #ring: KeystreamRing | undefined;
  #dataView: DataView | undefined;
  /** Bytes processed since the ring opened (its block n covers [n·blockSize, (n+1)·blockSize)). */
  #position = 0;
  /** The start state of the last ring block read, and that block (-1: none yet). */
  readonly #anchor = new Int32Array(RC4_STATE_LENGTH);
  #anchorBlock = -1;

  constructor(rc4: Rc4, pool: KeystreamPool, threshold = WORKER_THRESHOLD) {
    this.#rc4 = rc4;
    this.#pool = pool;
    this.#threshold = threshold;
  }

  /** Whether the last bytes processed came from the worker's ring. */
  get fromWorker(): boolean {
    return !this.#inThread;
  }

  process(data: Uint8Array, start = 0, end = data.length): void {
    if (!this.#ring) {
      this.#rc4.process(data, start, end);
      this.#moved += end - start;
      if (this.#moved >= this.#threshold) this.#openRing();
      return;
    }
    let k = start;
    while (k < end) {
      const ring = this.#ring;
      if (!ring) {
        this.#rc4.process(data, k, end); // no ring (#inThread is true then)
        return;
      }
      const { blockSize, blocks } = ring.shape;
      const block = Math.floor(this.#position / blockSize);
      if (block < ring.produced) {
        const slot = block % blocks;
        if (block !== this.#anchorBlock) {
          this.#anchor.set(
            ring.views.states.subarray(slot * RC4_STATE_LENGTH, (slot + 1) * RC4_STATE_LENGTH),
          );
          this.#anchorBlock = block;
        }
        const offset = this.#position - block * blockSize;
        const count = Math.min(end - k, blockSize - offset);
        this.#xor(data, k, slot * blockSize + offset, count);
        this.#inThread = false;
        k += count;
        this.#position += count;
      } else {
        if (this.#inThread && block >= ring.produced + (blocks >> 1) && this.#position % blockSize === 0) {
          // Half a ring behind: the worker would only burn CPU catching up on blocks this
          // thread has already done. Start it afresh from here instead.
          this.#reopen(ring);
          continue;
        }
        if (!this.#inThread) {
          // The worker is behind: continue in-thread from the last block's start state.
          this.#rc4 = Rc4.fromState(this.#anchor);
          this.#rc4.skip(this.#position - this.#anchorBlock * blockSize);
          this.#inThread = true;
        }
        // Up to the next block boundary, then look at the ring again.
        const count = Math.min(end - k, (block + 1) * blockSize - this.#position);
        this.#rc4.process(data, k, k + count);
        k += count;
        this.#position += count;
      }
      ring.release(Math.floor(this.#position / blockSize));
    }
  }

  /** Gives the ring back (the connection closed); the cipher keeps working in-thread. */
  close(): void {
    const ring = this.#ring;
    if (!ring) return;
    if (!this.#inThread) {
      this.#rc4 = Rc4.fromState(this.#anchor);
      this.#rc4.skip(this.#position - this.#anchorBlock * ring.shape.blockSize);
      this.#inThread = true;
    }
    this.#ring = undefined;
    this.#moved = Number.NEGATIVE_INFINITY; // never reopen
    ring.close();
  }

  /** A fresh ring from the current position (#inThread), then the old one closed. */
  #reopen(old: KeystreamRing): void {
    this.#ring = undefined;
    this.#anchorBlock = -1;
    this.#openRing();
    old.close();
  }

  #openRing(): void {
    const state = new Int32Array(RC4_STATE_LENGTH);
    this.#rc4.copyState(state);
    const ring = this.#pool.open(state);
    if (!ring) {
      this.#moved = Number.NEGATIVE_INFINITY; // the pool is full or failed: stay in-thread
      return;
    }
    this.#ring = ring;
    this.#dataView = new DataView(ring.views.keystream.buffer, ring.views.keystream.byteOffset);
    this.#position = 0;
  }

  /** data[start..start+count) ^= keystream[at..at+count), words where data is aligned. */
  #xor(data: Uint8Array, start: number, at: number, count: number): void {
    const keystream = this.#ring!.views.keystream;
    const end = start + count;
    const head = Math.min(end, start + ((4 - ((data.byteOffset + start) & 3)) & 3));
    if (head > start) xorBytes(data, start, keystream, at, head - start);
    const words = (end - head) >> 2;
    let k = head;
    let from = at + (head - start);
    if (words > 0 && LITTLE_ENDIAN) {
      const view = new Int32Array(data.buffer, data.byteOffset + k, words);
      if ((from & 3) === 0) xorAlignedWords(view, this.#ring!.views.words, from >> 2, words);
      else xorUnalignedWords(view, this.#dataView!, from, words);
      k += words << 2;
      from += words << 2;
    }
    if (end > k) xorBytes(data, k, keystream, from, end - k);
  }
}

function xorBytes(data: Uint8Array, start: number, keystream: Uint8Array, at: number, count: number): void {
  for (let n = 0; n < count; n++) data[start + n] = data[start + n]! ^ keystream[at + n]!;
}

function xorAlignedWords(view: Int32Array, keystream: Int32Array, at: number, words: number): void {
  for (let w = 0; w < words; w++) view[w] = view[w]! ^ keystream[at + w]!;
}

function xorUnalignedWords(view: Int32Array, keystream: DataView, at: number, words: number): void {
  for (let w = 0; w < words; w++) view[w] = view[w]! ^ keystream.getInt32(at + (w << 2), true);
}
