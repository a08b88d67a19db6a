import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { type Clock, systemClock } from '../clock.js';
import { LodestoneError } from '../errors.js';
import type { ChunkSource } from './chunk-relay.js';
import type { RandomBytes } from './mse/crypto.js';
import { MseInitiator, type MseMethod, type MseResult } from './mse/handshake.js';
import type { ConnectionEncryption } from './mse/policy.js';
import { MseStream } from './mse-stream.js';

export interface MseConnectOptions {
  /** The torrent's v1 info-hash (SKEY). */
  infoHash: Uint8Array;
  /** Methods offered in crypto_provide. */
  provide: readonly MseMethod[];
  /** Sent encrypted in the first round trip: our BitTorrent handshake. */
  initialPayload?: Uint8Array;
  /** @default node:crypto randomBytes */
  random?: RandomBytes;
  /** @default systemClock */
  clock?: Clock;
  /** The peer has this long to complete the handshake. @default 10000 */
  timeoutMs?: number;
}

/** A connection ready for the peer wire: a byte duplex, and its reads when relayed. */
export interface MseConnection {
  stream: MseStream;
  reads: ChunkSource | undefined;
  encryption: ConnectionEncryption;
}

/**
 * Runs the initiator's side of an MSE handshake on a connected byte stream (a TCP socket or a uTP stream) and resolves with the
 * byte duplex above it. Rejects (and destroys the socket) with an MseError when the peer fails
 * the handshake, or a LodestoneError (`LODESTONE_ERR_IO`) when it closes or stays silent.
 * `innerReads`: the socket's reads when it reads into a reused buffer (dialled sockets).
 */
export function mseConnect(
  socket: Duplex,
  innerReads: ChunkSource | undefined,
  options: MseConnectOptions,
): Promise<MseConnection> {
  const clock = options.clock ?? systemClock;
  return new Promise((resolve, reject) => {
    let settled = false;
    const initiator = new MseInitiator({
      infoHash: options.infoHash,
      provide: options.provide,
      random: options.random ?? randomBytes,
      ...(options.initialPayload ? { initialPayload: options.initialPayload } : {}),
    });
    const cleanup = (): void => {
      settled = true;
      clock.clearTimeout(timer);
      socket.off('close', onClose);
      socket.off('error', onError);
      if (!innerReads) socket.off('data', feed);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(error);
    };
    const done = (result: MseResult): void => {
      cleanup();
      const stream = new MseStream(socket, result, result.payload, innerReads);
      resolve({ stream, reads: stream.reads, encryption: result.method === 'rc4' ? 'rc4' : 'plain' });
    };
    function feed(chunk: Buffer): void {
      if (settled) return;
      try {
        const step = initiator.push(chunk);
        if (step.send) socket.write(step.send);
        if (step.done) done(step.done);
      } catch (error) {
        fail(error as Error);
      }
    }
    const onClose = (): void =>
      fail(new LodestoneError('LODESTONE_ERR_IO', 'connection closed during the encryption handshake'));
    const onError = (error: Error): void => fail(new LodestoneError('LODESTONE_ERR_IO', error.message));
    const timer = clock.setTimeout(
      () => fail(new LodestoneError('LODESTONE_ERR_IO', 'no encryption handshake from peer')),
      options.timeoutMs ?? 10_000,
    );
    socket.on('close', onClose);
    socket.on('error', onError);
    if (innerReads) innerReads.attach(feed);
    else socket.on('data', feed);
    socket.write(initiator.start());
  });
}
