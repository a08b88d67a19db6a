import { connect, type Socket } from 'node:net';
import type { PeerAddress } from '../address.js';
import { LodestoneError } from '../errors.js';

export interface DialOptions {
  /** Local address to connect from. */
  bindAddress?: string;
  /** @default 10000 */
  timeoutMs?: number;
}

/** Opens a TCP connection to a peer, failing after a timeout instead of the OS's minutes. */
export function dialPeer(address: PeerAddress, options: DialOptions = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: address.host,
      port: address.port,
      ...(options.bindAddress ? { localAddress: options.bindAddress } : {}),
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
      resolve(socket);
    });
  });
}
