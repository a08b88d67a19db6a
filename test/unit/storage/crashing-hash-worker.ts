/**
 * Test double for the hash worker: behaves like the real one, except that a
 * job of exactly 13 bytes kills the worker thread (to test crash handling).
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { HashReply, HashRequest } from '../../../src/storage/hash-worker.js';

const CRASH_LENGTH = 13;

parentPort?.on('message', (request: HashRequest) => {
  if (request.length === CRASH_LENGTH) process.exit(3);
  const digest = createHash('sha1')
    .update(new Uint8Array(request.buffer, 0, request.length))
    .digest();
  const reply: HashReply = { id: request.id, digest: new Uint8Array(digest) };
  parentPort?.postMessage(reply);
});
