/**
 * Worker side of WriteThread: positional, synchronous writes of verified
 * pieces, in batches, so the main thread never waits on the disk and the
 * libuv pool is left to reads. Parts backed by a SharedArrayBuffer arrive
 * without a copy.
 */
import { writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

export interface WriteRequest {
  id: number;
  fd: number;
  position: number;
  parts: Uint8Array[];
}

export interface WriteFailure {
  message: string;
  code?: string;
}

export interface WriteReply {
  id: number;
  error?: WriteFailure;
}

/**
 * Bytes per write(2). Linux sizes page-cache folios by the length of the
 * write, and large folios are carved from high-order free memory, which a VM
 * whose balloon driver reports free pages must first fault back in from the
 * host. Measured on Linux 6.18/ext4 in such a VM: a 1 GiB file written as
 * 256 KiB calls cost 0.9 s of system CPU, as 16 KiB calls 0.3–0.4 s (32 KiB:
 * 0.45 s, 64 KiB: 0.55 s). The extra calls cost little on bare metal.
 */
export const WRITE_SLICE = 16 * 1024;

function writeAll(fd: number, position: number, parts: readonly Uint8Array[]): void {
  let at = position;
  for (const part of parts) {
    let offset = 0;
    while (offset < part.byteLength) {
      const length = Math.min(WRITE_SLICE, part.byteLength - offset);
      const written = writeSync(fd, part, offset, length, at);
      // A regular file only writes short when something is wrong; a zero would loop forever.
      if (written <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
      offset += written;
      at += written;
    }
  }
}

function describe(error: unknown): WriteFailure {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? { message, code } : { message };
}

if (parentPort) {
  const port = parentPort;
  // One message is a batch of writes, done in order and answered with one message.
  port.on('message', (batch: WriteRequest[]) => {
    const replies: WriteReply[] = [];
    for (const request of batch) {
      try {
        writeAll(request.fd, request.position, request.parts);
        replies.push({ id: request.id });
      } catch (error) {
        replies.push({ id: request.id, error: describe(error) });
      }
    }
    port.postMessage(replies);
  });
}
