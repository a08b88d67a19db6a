import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { ChunkRelay, type ChunkSource } from './chunk-relay.js';
import type { Rc4 } from './mse/rc4.js';

/**
 * A connection after an MSE handshake: a byte duplex whose writes are encrypted onto the inner
 * socket and whose reads are the inner socket's bytes decrypted (when RC4 was selected; with
 * plaintext selected the bytes pass through), so the peer wire above never knows. Written bytes are copied before encryption (the caller may
 * reuse its buffer once the write callback runs); received bytes are decrypted in place.
 *
 * Reads arrive as 'data' events, or, when the inner socket reads into a reused buffer and
 * hands its bytes to `innerReads`, through {@link reads} (same contract, decrypted).
 */
export class MseStream extends Duplex {
  /** Decrypted reads, when the inner socket's reads come through a relay; otherwise undefined. */
  readonly reads: ChunkSource | undefined;
  readonly #inner: Duplex;
  readonly #encrypt: Rc4 | undefined;
  readonly #relayed: boolean;

  /**
   * `payload`: bytes already received and decrypted during the handshake, read first.
   */
  constructor(
    inner: Duplex,
    ciphers: { encrypt: Rc4 | undefined; decrypt: Rc4 | undefined },
    payload: Uint8Array,
    innerReads?: ChunkSource,
  ) {
    super({ allowHalfOpen: false, decodeStrings: true });
    this.#inner = inner;
    this.#encrypt = ciphers.encrypt;
    const decrypt = ciphers.decrypt;
    this.#relayed = innerReads !== undefined;
    if (innerReads) {
      const relay = new ChunkRelay();
      this.reads = relay;
      if (payload.length > 0) relay.deliver(Buffer.from(payload.buffer, payload.byteOffset, payload.length));
      innerReads.attach((chunk) => {
        decrypt?.process(chunk);
        relay.deliver(chunk);
      });
    } else {
      this.reads = undefined;
      if (payload.length > 0) this.push(Buffer.from(payload));
      inner.on('data', (chunk: Buffer) => {
        decrypt?.process(chunk);
        if (!this.push(chunk)) inner.pause();
      });
      inner.on('end', () => this.push(null));
    }
    inner.on('error', (error) => this.destroy(error));
    inner.on('close', () => this.destroy());
  }

  setNoDelay(noDelay?: boolean): this {
    // A TCP socket has it; another transport (uTP) has nothing to set.
    (this.#inner as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(noDelay);
    return this;
  }

  override pause(): this {
    if (this.#relayed) this.#inner.pause();
    return super.pause();
  }

  override resume(): this {
    if (this.#relayed) this.#inner.resume();
    return super.resume();
  }

  override _read(): void {
    if (!this.#relayed) this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.#encrypt) {
      this.#send(chunk, callback);
      return;
    }
    const bytes = Buffer.allocUnsafe(chunk.length);
    chunk.copy(bytes);
    this.#send(bytes, callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    // Corked writes (a piece header and its block, coalesced haves) become one encrypted write.
    this.#send(Buffer.concat(chunks.map(({ chunk }) => chunk)), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner.destroy();
    callback(error);
  }

  #send(bytes: Buffer, callback: (error?: Error | null) => void): void {
    this.#encrypt?.process(bytes);
    if (this.#inner.write(bytes)) callback();
    else this.#inner.once('drain', () => callback());
  }
}
