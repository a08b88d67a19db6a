/**
 * Worker side of HashPool: SHA-1 over a prefix of a SharedArrayBuffer. Only
 * the buffer reference crosses threads, never the bytes; the buffer is not
 * written by anyone while the job is in flight, so no locking is needed.
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
  digest: Uint8Array;
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: HashRequest) => {
    const digest = createHash('sha1')
      .update(new Uint8Array(request.buffer, 0, request.length))
      .digest();
    // 20 bytes cloned with the reply; the shared buffer itself is only read.
    const reply: HashReply = { id: request.id, digest: new Uint8Array(digest) };
    port.postMessage(reply);
  });
}
