/**
 * A uTP connection as a Node Duplex of bytes, so the peer wire runs on it as
 * on a TCP socket. Backpressure both ways: a write's callback waits while the
 * connection's send buffer is full; bytes the reader has not consumed shrink
 * the window we advertise, so a slow consumer slows the sender.
 */
import { Duplex } from 'node:stream';
import type { UtpConnection, UtpConnectionSink } from './connection.js';
import type { UtpError } from './utp-error.js';

/** What the stream needs from its manager. */
export interface UtpStreamHost {
  micros(): number;
  /** Flushes the connection soon (after the current batch of datagrams). */
  schedule(connection: UtpConnection): void;
  /** The connection is finished: forget it. */
  release(connection: UtpConnection): void;
}

export class UtpStream extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: 'IPv4' | 'IPv6';
  /** Always 'utp' (the session may log the transport). */
  readonly transport = 'utp';
  #connection: UtpConnection | undefined;
  readonly #host: UtpStreamHost;
  #pendingWrite: ((error?: Error | null) => void) | undefined;

  constructor(host: UtpStreamHost, remote: { address: string; port: number; family: 'IPv4' | 'IPv6' }) {
    super({ allowHalfOpen: false, readableHighWaterMark: 256 * 1024, writableHighWaterMark: 64 * 1024 });
    this.#host = host;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.remoteFamily = remote.family;
  }

  /**
   * The sink to give the connection; `attach` it once the connection exists.
   * `onClosed` returns true when it took care of the error (a failed connect
   * rejects its promise instead of emitting 'error' on a stream nobody holds).
   */
  sink(
    send: (datagram: Buffer) => void,
    onConnected: () => void,
    onClosed: (e?: UtpError) => boolean,
  ): UtpConnectionSink {
    return {
      send,
      data: (bytes) => {
        this.push(bytes);
      },
      connected: onConnected,
      end: () => {
        this.push(null);
      },
      drain: () => {
        const callback = this.#pendingWrite;
        this.#pendingWrite = undefined;
        callback?.();
      },
      closed: (error) => {
        const connection = this.#connection;
        if (connection !== undefined) this.#host.release(connection);
        const handled = onClosed(error);
        const callback = this.#pendingWrite;
        this.#pendingWrite = undefined;
        if (handled) {
          this.destroy();
        } else if (error !== undefined) {
          callback?.(error);
          this.destroy(error);
        } else {
          callback?.();
          if (!this.readableEnded) this.push(null);
        }
      },
    };
  }

  attach(connection: UtpConnection): void {
    this.#connection = connection;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const connection = this.#connection;
    if (connection === undefined || connection.state === 'closed') {
      callback(new Error('uTP connection closed'));
      return;
    }
    const room = connection.write(chunk);
    connection.flush(this.#host.micros());
    if (room) callback();
    else this.#pendingWrite = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    const connection = this.#connection;
    if (connection !== undefined && connection.state !== 'closed') {
      connection.end();
      connection.flush(this.#host.micros());
    }
    callback();
  }

  /**
   * Every consumer path (flowing mode, `for await`, `read()`) goes through read():
   * after it, what is left unread is the backlog that shrinks our window. `_read`
   * alone is not enough: Node calls it once and not again until we push, and we
   * push nothing while the sender waits for the window: a deadlock.
   */
  override read(size?: number): unknown {
    const chunk: unknown = super.read(size);
    const connection = this.#connection;
    if (connection !== undefined && connection.state !== 'closed')
      connection.setReadBacklog(this.readableLength, this.#host.micros());
    return chunk;
  }

  override _read(): void {
    const connection = this.#connection;
    if (connection !== undefined) connection.setReadBacklog(this.readableLength, this.#host.micros());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const connection = this.#connection;
    if (connection !== undefined && connection.state !== 'closed') connection.destroy(this.#host.micros());
    callback(error);
  }
}
