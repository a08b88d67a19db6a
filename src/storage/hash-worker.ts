/**
 * Worker side of HashPool: SHA-1 over a prefix of a SharedArrayBuffer.
 *
 * The pool copies a piece's blocks into shared memory (one memcpy, no
 * structured-clone copies) and posts only the buffer reference. The 20-byte
 * digest is written back over the start of the same buffer, which the pool
 * reads once the reply arrives; the buffer is not touched by the pool while
 * the job is in flight, so no locking is needed.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';

export interface HashRequest {
  id: number;
  buffer: SharedArrayBuffer;
  length: number;
}

export interface HashReply {
  id: number;
}

/** SHA-1 digest length. Not exported: the pool imports this module for types only, never runs it. */
const DIGEST_LENGTH = 20;

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: HashRequest) => {
    const digest = createHash('sha1')
      .update(new Uint8Array(request.buffer, 0, request.length))
      .digest();
    new Uint8Array(request.buffer, 0, DIGEST_LENGTH).set(digest);
    const reply: HashReply = { id: request.id };
    port.postMessage(reply);
  });
}
