/**
 * The shared memory of one keystream ring (one direction of one RC4 connection), as both the
 * main thread (KeystreamPool, WorkerFedRc4) and the keystream worker see it. One
 * SharedArrayBuffer holds, in order:
 * - a control block of 32-bit words: blocks produced (written by the worker only), blocks
 *   consumed (written by the main thread only), and a closed flag;
 * - `blocks` slots of `blockSize` keystream bytes; block n of the stream lives in slot
 *   n % blocks;
 * - `blocks` RC4 states (Rc4.copyState), the state at the start of the block in the same slot.
 *
 * The worker writes block n (its bytes, then its start state) only while n - consumed < blocks,
 * then publishes it with an atomic store of produced = n + 1; the main thread reads block n
 * only while n < produced (atomic load) and n >= its own consumed count, so no slot is ever
 * read and written at once.
 */
import { RC4_STATE_LENGTH } from './rc4.js';

export const PRODUCED = 0;
export const CONSUMED = 1;
export const CLOSED = 2;
const CONTROL_BYTES = 16;

export interface RingShape {
  /** Bytes per block, a multiple of 4. */
  blockSize: number;
  /** Blocks in the ring. */
  blocks: number;
}

/** Typed views over a ring's SharedArrayBuffer. */
export interface RingViews {
  control: Int32Array;
  keystream: Uint8Array;
  /** The same bytes as `keystream`, as 32-bit words (blockSize is a multiple of 4). */
  words: Int32Array;
  states: Int32Array;
}

export function ringBytes(shape: RingShape): number {
  return CONTROL_BYTES + shape.blocks * shape.blockSize + shape.blocks * RC4_STATE_LENGTH * 4;
}

export function ringViews(buffer: SharedArrayBuffer, shape: RingShape): RingViews {
  const dataBytes = shape.blocks * shape.blockSize;
  return {
    control: new Int32Array(buffer, 0, CONTROL_BYTES / 4),
    keystream: new Uint8Array(buffer, CONTROL_BYTES, dataBytes),
    words: new Int32Array(buffer, CONTROL_BYTES, dataBytes / 4),
    states: new Int32Array(buffer, CONTROL_BYTES + dataBytes, shape.blocks * RC4_STATE_LENGTH),
  };
}

/** Main thread → worker. */
export type KeystreamRequest =
  | { type: 'open'; id: number; buffer: SharedArrayBuffer; shape: RingShape; state: Int32Array }
  /** The main thread released blocks: the ring may have room again. */
  | { type: 'more'; id: number }
  | { type: 'close'; id: number };
