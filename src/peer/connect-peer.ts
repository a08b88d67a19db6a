import type { Duplex } from 'node:stream';
import type { PeerAddress } from '../address.js';
import type { Clock } from '../clock.js';
import type { ChunkSource } from '../net/chunk-relay.js';
import {
  type ConnectionEncryption,
  dialOrder,
  type EncryptionPolicy,
  mseMethods,
} from '../net/mse/policy.js';
import { mseConnect } from '../net/mse-connect.js';
import { encodeHandshake } from '../wire/index.js';
import type { Handshake } from '../wire/types.js';
import type { DialOptions } from './dial.js';
import { dialTransport, type PeerTransport, type UtpDialer } from './dial-transport.js';

export interface ConnectPeerOptions extends DialOptions {
  localHandshake: Handshake;
  /** @default 'prefer' */
  encryption?: EncryptionPolicy;
  /** The way that worked last time with this address: tried first when the policy allows it. */
  remembered?: 'mse' | 'plain' | undefined;
  /** Time the peer has for the encryption handshake. @default 10000 */
  handshakeTimeoutMs?: number;
  clock?: Clock;
  /** Dials over uTP (preferred, TCP after a delay); without it, TCP only. */
  utp?: UtpDialer | undefined;
  /** `tcp` when this address did not connect over uTP before: TCP only. */
  rememberedTransport?: PeerTransport | undefined;
  /** See {@link dialTransport}. @default 1000 */
  tcpDelayMs?: number;
}

/** A dialled peer, ready for a PeerConnection. */
export interface ConnectedPeer {
  socket: Duplex;
  reads: ChunkSource | undefined;
  /** Our BitTorrent handshake already went out (in the encryption handshake's initial payload). */
  handshakeSent: boolean;
  encryption: ConnectionEncryption;
  /** How we got in: with an MSE handshake or straight in plaintext. */
  way: 'mse' | 'plain';
  /** The transport that connected. */
  transport: PeerTransport;
}

/**
 * Dials a peer the ways the encryption policy allows, in its order (the remembered way first):
 * an MSE handshake (our BitTorrent handshake rides in it) or plaintext. When the MSE handshake
 * fails (a peer that does not speak it closes on our key), the next way is tried at once; a
 * peer that cannot be reached at all is not dialled again. A plaintext connection is returned
 * as soon as TCP connects: whether the peer accepts it shows in the BitTorrent handshake.
 */
export async function connectPeer(address: PeerAddress, options: ConnectPeerOptions): Promise<ConnectedPeer> {
  const order = [...dialOrder(options.encryption ?? 'prefer')];
  if (options.remembered && order.includes(options.remembered) && order[0] !== options.remembered)
    order.reverse();
  const dialOptions = {
    ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.tcpDelayMs !== undefined ? { tcpDelayMs: options.tcpDelayMs } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    utp: options.utp,
    remembered: options.rememberedTransport,
  };
  let lastError: unknown;
  for (const way of order) {
    const { socket, reads, transport } = await dialTransport(address, dialOptions);
    // A transport that worked is used for the next way too (no second happy-eyeballs race).
    dialOptions.remembered = transport === 'tcp' ? 'tcp' : dialOptions.remembered;
    if (way === 'plain') return { socket, reads, handshakeSent: false, encryption: 'plain', way, transport };
    try {
      const connection = await mseConnect(socket, reads, {
        infoHash: options.localHandshake.infoHash,
        provide: mseMethods(options.encryption ?? 'prefer'),
        initialPayload: encodeHandshake(options.localHandshake),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.handshakeTimeoutMs !== undefined ? { timeoutMs: options.handshakeTimeoutMs } : {}),
      });
      return {
        socket: connection.stream,
        reads: connection.reads,
        handshakeSent: true,
        encryption: connection.encryption,
        way,
        transport,
      };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
