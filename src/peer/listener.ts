import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { PeerAddress } from '../address.js';
import { LodestoneError } from '../errors.js';
import { checkHandshakePrefix, decodeHandshake, HANDSHAKE_LENGTH } from '../wire/index.js';
import type { Handshake } from '../wire/types.js';

export interface ListenerOptions {
  /** First port to try. @default 6881 */
  port?: number;
  /** Further ports tried when the first is taken. @default 10 */
  portAttempts?: number;
  /** Address to bind; default all interfaces (IPv4 and IPv6). */
  host?: string;
  /** Time allowed for a complete handshake. @default 10000 */
  handshakeTimeoutMs?: number;
  /** Most connections still handshaking at once (slowloris bound). @default 64 */
  maxPendingHandshakes?: number;
  /**
   * Most connections still handshaking at once from one remote address, so a single host
   * opening many silent connections cannot use up `maxPendingHandshakes` and lock every
   * other peer out. @default 8
   */
  maxPendingHandshakesPerHost?: number;
}

export interface ListenerEvents {
  /** A peer finished its handshake; the receiver routes it by info-hash or destroys the socket. */
  handshake: [socket: Socket, handshake: Handshake, leftover: Uint8Array, address: PeerAddress];
}

/**
 * Accepts incoming peers, reads just their handshake (bounded in time and
 * bytes) and hands them to whoever owns that info-hash.
 */
export class PeerListener extends EventEmitter<ListenerEvents> {
  readonly #options: ListenerOptions;
  readonly #pending = new Set<Socket>();
  /** Connections still handshaking, per remote host. */
  readonly #pendingByHost = new Map<string, number>();
  #server: Server | undefined;
  #port = 0;

  constructor(options: ListenerOptions = {}) {
    super();
    this.#options = options;
  }

  get port(): number {
    return this.#port;
  }

  async listen(): Promise<number> {
    const first = this.#options.port ?? 6881;
    const attempts = first === 0 ? 1 : (this.#options.portAttempts ?? 10);
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      try {
        this.#port = await this.#tryListen(first === 0 ? 0 : first + i);
        return this.#port;
      } catch (error) {
        lastError = error;
      }
    }
    throw new LodestoneError(
      'LODESTONE_ERR_IO',
      `cannot listen on ports ${first}-${first + attempts - 1}: ${lastError instanceof Error ? lastError.message : lastError}`,
    );
  }

  async close(): Promise<void> {
    for (const socket of this.#pending) socket.destroy();
    this.#pending.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #tryListen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.#onConnection(socket));
      server.once('error', reject);
      const host = this.#options.host;
      server.listen({ port, ...(host ? { host } : {}) }, () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.#server = server;
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  #onConnection(socket: Socket): void {
    const host = socket.remoteAddress;
    const port = socket.remotePort;
    if (!host || !port || this.#pending.size >= (this.#options.maxPendingHandshakes ?? 64)) {
      socket.destroy();
      return;
    }
    const address: PeerAddress = { host: host.startsWith('::ffff:') ? host.slice(7) : host, port };
    const fromHost = this.#pendingByHost.get(address.host) ?? 0;
    if (fromHost >= (this.#options.maxPendingHandshakesPerHost ?? 8)) {
      socket.destroy();
      return;
    }
    this.#pendingByHost.set(address.host, fromHost + 1);
    this.#pending.add(socket);
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), this.#options.handshakeTimeoutMs ?? 10_000);
    timer.unref();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.#pending.delete(socket);
      const left = (this.#pendingByHost.get(address.host) ?? 1) - 1;
      if (left > 0) this.#pendingByHost.set(address.host, left);
      else this.#pendingByHost.delete(address.host);
      socket.off('data', onData);
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < HANDSHAKE_LENGTH) {
        // Another protocol (HTTP, a port scanner…) is told apart by its first bytes: drop it
        // now rather than holding a pending slot until the handshake timeout.
        try {
          checkHandshakePrefix(buffered);
        } catch {
          socket.destroy();
        }
        return;
      }
      finish();
      socket.pause();
      let handshake: Handshake;
      try {
        handshake = decodeHandshake(buffered.subarray(0, HANDSHAKE_LENGTH));
      } catch {
        socket.destroy();
        return;
      }
      this.emit('handshake', socket, handshake, buffered.subarray(HANDSHAKE_LENGTH), address);
      if (this.listenerCount('handshake') === 0) socket.destroy();
      else socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', finish);
  }
}
