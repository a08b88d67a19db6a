import { connect, type Socket } from 'node:net';
import type { PeerAddress } from '../address.js';
import { LodestoneError } from '../errors.js';
import { ChunkRelay } from '../net/chunk-relay.js';

export interface DialOptions {
  /** Local address to connect from. */
  bindAddress?: string;
  /** @default 10000 */
  timeoutMs?: number;
}

/**
 * Size of the read buffer every dialled connection shares. Reads are handled
 * one at a time on the event loop and their bytes consumed (or copied) before
 * the next, so one buffer serves all connections and memory stays flat with
 * the number of peers. (256 and 512 KiB made no measurable difference to a
 * 1 GiB download's CPU.)
 */
const READ_BUFFER_SIZE = 128 * 1024;
let sharedReadBuffer: Buffer | undefined;

function readBuffer(): Buffer {
  sharedReadBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
  return sharedReadBuffer;
}

/**
 * Where a dialled socket's bytes go: the socket reads into one reusable buffer (`onread`)
 * instead of allocating a fresh chunk per read, which saves most of the kernel and GC time of a
 * fast download. The relay is the net room's {@link ChunkRelay} (`chunk` valid only during the
 * call, early bytes copied and replayed once a reader attaches).
 */
export { ChunkRelay as ReadRelay };

export interface DialedSocket {
  socket: Socket;
  reads: ChunkRelay;
}

/** Opens a TCP connection to a peer, failing after a timeout instead of the OS's minutes. */
export function dialPeer(address: PeerAddress, options: DialOptions = {}): Promise<DialedSocket> {
  return new Promise((resolve, reject) => {
    const reads = new ChunkRelay();
    const buffer = readBuffer();
    const socket = connect({
      host: address.host,
      port: address.port,
      ...(options.bindAddress ? { localAddress: options.bindAddress } : {}),
      onread: {
        buffer,
        callback: (length: number) => {
          reads.deliver(buffer.subarray(0, length));
          return true;
        },
      },
    });
    const fail = (reason: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new LodestoneError(
          'LODESTONE_ERR_IO',
          `cannot connect to ${address.host}:${address.port}: ${reason}`,
        ),
      );
    };
    const timer = setTimeout(() => fail('timed out'), options.timeoutMs ?? 10_000);
    timer.unref();
    socket.once('error', (error) => fail(error.message));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ socket, reads });
    });
  });
}
