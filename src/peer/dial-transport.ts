import type { Duplex } from 'node:stream';
import type { PeerAddress } from '../address.js';
import { type Clock, systemClock } from '../clock.js';
import { LodestoneError } from '../errors.js';
import type { ChunkSource } from '../net/chunk-relay.js';
import { type DialOptions, dialPeer } from './dial.js';

/** The transport under a peer connection. */
export type PeerTransport = 'tcp' | 'utp';

/** Dials a peer over uTP (the client's uTP socket); `signal` abandons a dial still connecting. */
export type UtpDialer = (host: string, port: number, signal: AbortSignal) => Promise<Duplex>;

export interface TransportDialOptions extends DialOptions {
  /** Dials over uTP; without it, TCP only. */
  utp?: UtpDialer | undefined;
  /** `tcp`: this address did not answer over uTP before, so TCP only. */
  remembered?: PeerTransport | undefined;
  /** TCP starts too when uTP has not connected after this long (uTP SYN timeouts are long). @default 1000 */
  tcpDelayMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

export interface DialedTransport {
  socket: Duplex;
  /** The TCP socket's reads (into a reused buffer); undefined for uTP ('data' events). */
  reads: ChunkSource | undefined;
  transport: PeerTransport;
}

/**
 * Opens a connection to a peer, preferring uTP as libtorrent does, "happy eyeballs" style: uTP
 * first, and TCP too when uTP has not connected within `tcpDelayMs` (or failed sooner), so a
 * TCP-only peer costs one delay and no more. The first transport to connect wins; the other
 * attempt is abandoned (a TCP socket connecting later is closed at once). uTP is given up after
 * `timeoutMs`, or as soon as TCP failed (so an unreachable address costs `tcpDelayMs` plus a
 * TCP refusal, not the uTP timeout); rejects with the TCP error when TCP was tried.
 */
export function dialTransport(
  address: PeerAddress,
  options: TransportDialOptions = {},
): Promise<DialedTransport> {
  const tcpOptions: DialOptions = {
    ...(options.bindAddress ? { bindAddress: options.bindAddress } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  };
  const utp = options.utp;
  if (utp === undefined || options.remembered === 'tcp')
    return dialPeer(address, tcpOptions).then(({ socket, reads }) => ({ socket, reads, transport: 'tcp' }));
  const clock = options.clock ?? systemClock;
  return new Promise((resolve, reject) => {
    const abort = new AbortController();
    let settled = false;
    let tcpStarted = false;
    const finish = (): void => {
      settled = true;
      clock.clearTimeout(delay);
      clock.clearTimeout(deadline);
      abort.abort();
    };
    const win = (dialed: DialedTransport): void => {
      if (settled) {
        dialed.socket.destroy();
        return;
      }
      finish();
      resolve(dialed);
    };
    const lose = (error: unknown, tcp: boolean): void => {
      if (settled) return;
      if (!tcpStarted) startTcp();
      // TCP failing (refused, timed out) ends the attempt even while uTP is still trying: uTP
      // had its head start (`tcpDelayMs`, many round trips), and waiting out its timeout would
      // make every unreachable address cost that long.
      else if (tcp) {
        finish();
        reject(error);
      }
      // uTP failing once TCP runs: TCP decides.
    };
    const startTcp = (): void => {
      if (tcpStarted || settled) return;
      tcpStarted = true;
      clock.clearTimeout(delay);
      dialPeer(address, tcpOptions).then(
        ({ socket, reads }) => win({ socket, reads, transport: 'tcp' }),
        (error: unknown) => lose(error, true),
      );
    };
    const delay = clock.setTimeout(startTcp, options.tcpDelayMs ?? 1000);
    // uTP's own SYN timeouts add up to half a minute: it gets `timeoutMs` (then TCP starts if it
    // has not yet); TCP has dialPeer's timeout.
    const deadline = clock.setTimeout(() => abort.abort(), options.timeoutMs ?? 10_000);
    utp(address.host, address.port, abort.signal).then(
      (socket) => win({ socket, reads: undefined, transport: 'utp' }),
      (error: unknown) =>
        lose(
          new LodestoneError(
            'LODESTONE_ERR_IO',
            `cannot connect to ${address.host}:${address.port} over uTP: ${error instanceof Error ? error.message : String(error)}`,
          ),
          false,
        ),
    );
  });
}
