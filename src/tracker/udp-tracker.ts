import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { TrackerError } from '../errors.js';
import { abortError, sanitizeInterval } from './announce-common.js';
import type { AnnounceRequest, AnnounceResponse, TrackerClient } from './types.js';
import {
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  type UdpResponse,
} from './udp-codec.js';

export {
  type DecodeUdpOptions,
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  UDP_PROTOCOL_ID,
  type UdpResponse,
} from './udp-codec.js';

export interface UdpTrackerOptions {
  /** Wait before the first retransmission; doubles after each one (BEP 15: 15 s · 2^n). @default 15000 */
  baseTimeoutMs?: number;
  /** Retransmissions before giving up (BEP 15: n goes up to 8). @default 8 */
  maxRetries?: number;
  /** How long a connection id is reused after it was received (BEP 15: one minute). @default 60000 */
  connectionIdTtlMs?: number;
  /** Local address to send from (its family's socket only), so the tracker records that address. */
  localAddress?: string;
}

type Family = 4 | 6;

interface Target {
  address: string;
  port: number;
  family: Family;
}

interface PendingExchange {
  target: Target;
  expect: 'connect' | 'announce';
  finish(error: unknown, response?: UdpResponse): void;
}

/** A single exchange got no answer in time; the announce loop retransmits on it. */
class ExchangeTimeout extends TrackerError {}

/**
 * A UDP tracker (BEP 15). One socket per address family, opened lazily;
 * answers are matched to requests by transaction id and source address, and
 * anything else arriving on the socket is ignored.
 */
export class UdpTracker implements TrackerClient {
  readonly url: string;
  readonly #hostname: string;
  readonly #port: number;
  readonly #baseTimeoutMs: number;
  readonly #maxRetries: number;
  readonly #connectionIdTtlMs: number;
  readonly #localAddress: string | undefined;
  readonly #sockets = new Map<Family, dgram.Socket>();
  readonly #pending = new Map<number, PendingExchange>();
  readonly #closing = new AbortController();
  #connection: { id: bigint; receivedAt: number; address: string } | undefined;

  constructor(url: string, options: UdpTrackerOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch (error) {
      throw new TrackerError(`invalid tracker URL "${url}"`, { cause: error });
    }
    if (parsed.protocol !== 'udp:') throw new TrackerError(`not a UDP tracker URL: "${url}"`);
    const port = Number(parsed.port);
    if (!parsed.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new TrackerError(`UDP tracker URL needs a host and a port: "${url}"`);
    }
    this.url = url;
    this.#localAddress = options.localAddress;
    // Non-special schemes keep the brackets of an IPv6 literal in `hostname`.
    this.#hostname = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = port;
    this.#baseTimeoutMs = options.baseTimeoutMs ?? 15_000;
    this.#maxRetries = options.maxRetries ?? 8;
    this.#connectionIdTtlMs = options.connectionIdTtlMs ?? 60_000;
  }

  async announce(request: AnnounceRequest): Promise<AnnounceResponse> {
    if (this.#closing.signal.aborted) throw abortError('announce (tracker closed)');
    const { signal, dispose } = linkSignals(this.#closing.signal, request.signal);
    try {
      const target = await this.#resolve(signal);
      for (let attempt = 0; ; attempt++) {
        const timeoutMs = this.#baseTimeoutMs * 2 ** attempt;
        try {
          const connectionId = await this.#connectionId(target, timeoutMs, signal);
          const transactionId = this.#newTransactionId();
          const packet = encodeAnnounceRequest({ connectionId, transactionId, request });
          const answer = await this.#exchange(target, packet, transactionId, 'announce', timeoutMs, signal);
          if (answer.action !== 'announce') throw new TrackerError('UDP tracker sent no announce answer');
          return {
            interval: sanitizeInterval(answer.interval),
            peers: answer.peers,
            seeders: answer.seeders,
            leechers: answer.leechers,
          };
        } catch (error) {
          // A silent tracker may have forgotten our connection id (restart): fetch a new one next time.
          this.#connection = undefined;
          if (!(error instanceof ExchangeTimeout)) throw error;
          if (attempt >= this.#maxRetries) {
            throw new TrackerError(
              `UDP tracker ${this.#hostname}:${this.#port} did not answer (${attempt + 1} tries)`,
            );
          }
        }
      }
    } finally {
      dispose();
    }
  }

  close(): void {
    this.#closing.abort(abortError('announce (tracker closed)'));
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
  }

  async #resolve(signal: AbortSignal): Promise<Target> {
    const resolved = await raceAbort(lookup(this.#hostname), signal).catch((error: unknown) => {
      if (signal.aborted) throw error;
      throw new TrackerError(`cannot resolve UDP tracker host "${this.#hostname}"`, { cause: error });
    });
    return { address: resolved.address, port: this.#port, family: resolved.family === 6 ? 6 : 4 };
  }

  async #connectionId(target: Target, timeoutMs: number, signal: AbortSignal): Promise<bigint> {
    const cached = this.#connection;
    if (
      cached &&
      cached.address === target.address &&
      Date.now() - cached.receivedAt < this.#connectionIdTtlMs
    ) {
      return cached.id;
    }
    const transactionId = this.#newTransactionId();
    const packet = encodeConnectRequest(transactionId);
    const answer = await this.#exchange(target, packet, transactionId, 'connect', timeoutMs, signal);
    if (answer.action !== 'connect') throw new TrackerError('UDP tracker sent no connect answer');
    this.#connection = { id: answer.connectionId, receivedAt: Date.now(), address: target.address };
    return answer.connectionId;
  }

  #newTransactionId(): number {
    for (;;) {
      const id = randomBytes(4).readUInt32BE(0);
      if (!this.#pending.has(id)) return id;
    }
  }

  /** Sends one datagram and waits for the answer carrying the same transaction id. */
  #exchange(
    target: Target,
    packet: Buffer,
    transactionId: number,
    expect: PendingExchange['expect'],
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<UdpResponse> {
    return new Promise<UdpResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const finish = (error: unknown, response?: UdpResponse) => {
        if (this.#pending.get(transactionId) !== exchange) return;
        this.#pending.delete(transactionId);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.#pending.size === 0) for (const socket of this.#sockets.values()) socket.unref();
        if (response !== undefined && error === undefined) resolve(response);
        else reject(error);
      };
      const exchange: PendingExchange = { target, expect, finish };
      const onAbort = () => finish(signal.reason);
      const timer = setTimeout(
        () => finish(new ExchangeTimeout(`no ${expect} answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(transactionId, exchange);
      const socket = this.#socketFor(target.family);
      socket.ref(); // keep the process alive while we wait for an answer
      socket.send(packet, target.port, target.address, (error) => {
        if (error) finish(new TrackerError(`cannot send to UDP tracker: ${error.message}`, { cause: error }));
      });
    });
  }

  #socketFor(family: Family): dgram.Socket {
    const existing = this.#sockets.get(family);
    if (existing) return existing;
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    // Sends issued while the bind is pending are queued by dgram.
    if (this.#localAddress !== undefined && isIP(this.#localAddress) === family)
      socket.bind({ address: this.#localAddress });
    socket.on('message', (message, remote) => this.#onMessage(message, remote, family));
    socket.on('error', (error) => {
      this.#sockets.delete(family);
      socket.close();
      for (const exchange of [...this.#pending.values()]) {
        if (exchange.target.family !== family) continue;
        exchange.finish(new TrackerError(`UDP tracker socket failed: ${error.message}`, { cause: error }));
      }
    });
    this.#sockets.set(family, socket);
    return socket;
  }

  #onMessage(message: Buffer, remote: dgram.RemoteInfo, family: Family): void {
    if (message.length < 8) return;
    const exchange = this.#pending.get(message.readUInt32BE(4));
    // Unknown transaction ids and foreign senders are noise (late duplicates, spoofing): ignore them.
    if (!exchange || remote.address !== exchange.target.address || remote.port !== exchange.target.port)
      return;
    let response: UdpResponse;
    try {
      response = decodeUdpResponse(message, { ipv6: family === 6 });
    } catch (error) {
      exchange.finish(error);
      return;
    }
    if (response.action === 'error') {
      exchange.finish(new TrackerError(`tracker failure: ${response.message}`));
    } else if (response.action !== exchange.expect) {
      exchange.finish(
        new TrackerError(`UDP tracker answered ${response.action} to a ${exchange.expect} request`),
      );
    } else {
      exchange.finish(undefined, response);
    }
  }
}

/** One signal that aborts when any of the given ones does; `dispose` detaches the listeners. */
function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const listeners: [AbortSignal, () => void][] = [];
  for (const source of signals) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source === signals[0] ? source.reason : abortError('announce'));
      break;
    }
    const listener = () => controller.abort(source === signals[0] ? source.reason : abortError('announce'));
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    },
  };
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
