/**
 * All uTP connections of one client over one shared UDP socket: packets are
 * matched to connections by (address, port, connection id); SYNs become new
 * connections (at most `maxHalfOpen` not yet confirmed by a second packet, so
 * a SYN flood costs a bounded table); one timer ticks every connection.
 */
import { randomInt } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { type Clock, systemClock } from '../../clock.js';
import type { UdpRoute } from '../udp-socket.js';
import { UtpConnection, type UtpConnectionOptions } from './connection.js';
import { decodeUtpPacket, encodeUtpPacket, looksLikeUtp, type UtpPacket } from './packet.js';
import { UtpError } from './utp-error.js';
import { UtpStream } from './utp-stream.js';

export interface UtpSocketManagerOptions {
  /** Timers; @default systemClock */
  clock?: Clock;
  /** Microseconds for packet timestamps; @default from `clock` (high resolution for the system clock) */
  micros?: () => number;
  /** Incoming connections accepted but not yet confirmed by a second packet. @default 64 */
  maxHalfOpen?: number;
  /** Connections at most (both directions). @default 1024 */
  maxConnections?: number;
  /** An unconfirmed incoming connection is dropped after this, ms. @default 10000 */
  halfOpenTimeoutMs?: number;
  /** How often connections are ticked, ms. @default 50 */
  tickMs?: number;
  /** ST_RESET answers to packets of unknown connections (any type but SYN and RESET), per `tickMs` at most. @default 64 */
  maxResetsPerTick?: number;
  connection?: UtpConnectionOptions;
  /** Random integer in [0, max): ids and first sequence numbers. @default crypto.randomInt */
  random?: (max: number) => number;
}

export interface UtpSocketManagerEvents {
  /** An incoming connection, confirmed (the peer sent more than its SYN). */
  connection: [UtpStream];
}

interface Entry {
  connection: UtpConnection;
  stream: UtpStream;
  host: string;
  port: number;
  /** Incoming and only its SYN seen so far. */
  halfOpenSince: number | undefined;
}

/** How the manager sends: the shared UDP socket's `send`. */
export type DatagramSender = (datagram: Uint8Array, port: number, host: string) => void;

export class UtpSocketManager extends EventEmitter<UtpSocketManagerEvents> {
  readonly #send: DatagramSender;
  readonly #clock: Clock;
  readonly #micros: () => number;
  readonly #maxHalfOpen: number;
  readonly #maxConnections: number;
  readonly #halfOpenTimeout: number;
  readonly #tickMs: number;
  readonly #maxResets: number;
  readonly #options: UtpConnectionOptions;
  readonly #random: (max: number) => number;
  readonly #entries = new Map<string, Entry>();
  readonly #byConnection = new Map<UtpConnection, string>();
  readonly #dirty = new Set<UtpConnection>();
  #halfOpen = 0;
  #resets = 0;
  /** When the current reset budget began (clock ms): the budget renews every `tickMs`. */
  #resetsSince = Number.NEGATIVE_INFINITY;
  #timer: unknown;
  #flushScheduled = false;
  #closed = false;
  /** Datagrams dropped: undecodable, unknown connection, or over a bound. */
  dropped = 0;

  /** The route to add to the shared UdpSocket. */
  readonly route: UdpRoute = {
    name: 'utp',
    accepts: (datagram) => looksLikeUtp(datagram),
    receive: (datagram, from) => this.#receive(datagram, from),
  };

  constructor(send: DatagramSender, options: UtpSocketManagerOptions = {}) {
    super();
    this.#send = send;
    this.#clock = options.clock ?? systemClock;
    const clock = this.#clock;
    this.#micros =
      options.micros ??
      (clock === systemClock
        ? () => performance.timeOrigin * 1000 + performance.now() * 1000
        : () => clock.now() * 1000);
    this.#maxHalfOpen = options.maxHalfOpen ?? 64;
    this.#maxConnections = options.maxConnections ?? 1024;
    this.#halfOpenTimeout = (options.halfOpenTimeoutMs ?? 10_000) * 1000;
    this.#tickMs = options.tickMs ?? 50;
    this.#maxResets = options.maxResetsPerTick ?? 64;
    this.#options = options.connection ?? {};
    this.#random = options.random ?? ((max) => randomInt(max));
  }

  /** Connections open now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Incoming connections not yet confirmed. */
  get halfOpen(): number {
    return this.#halfOpen;
  }

  /**
   * Dials `host:port` over uTP; resolves with the stream once the peer answered the SYN.
   * `signal` abandons the attempt while it is still connecting (the promise rejects).
   */
  connect(host: string, port: number, signal?: AbortSignal): Promise<UtpStream> {
    if (signal?.aborted) return Promise.reject(new UtpError('destroyed', 'uTP connect aborted'));
    if (this.#closed) return Promise.reject(new UtpError('refused', 'the uTP socket is closed'));
    if (this.#entries.size >= this.#maxConnections)
      return Promise.reject(new UtpError('refused', 'too many uTP connections'));
    let recvId = this.#random(0x10000);
    while (this.#entries.has(key(host, port, recvId)) || this.#entries.has(key(host, port, recvId + 1)))
      recvId = this.#random(0x10000);
    return new Promise<UtpStream>((resolve, reject) => {
      const stream = new UtpStream(this.#host, {
        address: host,
        port,
        family: isIPv6(host) ? 'IPv6' : 'IPv4',
      });
      let settled = false;
      const onAbort = (): void => {
        if (!settled) stream.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const sink = stream.sink(
        (datagram) => this.#send(datagram, port, host),
        () => {
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(stream);
        },
        (error) => {
          if (settled) return false;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          reject(error ?? new UtpError('reset', 'uTP connection closed during setup'));
          return true;
        },
      );
      const k = key(host, port, recvId);
      const entry: Entry = {
        connection: undefined as unknown as UtpConnection,
        stream,
        host,
        port,
        halfOpenSince: undefined,
      };
      this.#entries.set(k, entry);
      const connection = UtpConnection.connect(
        sink,
        recvId,
        this.#random(0x10000),
        this.#micros(),
        this.#options,
      );
      entry.connection = connection;
      this.#byConnection.set(connection, k);
      stream.attach(connection);
      this.#arm();
    });
  }

  /** Resets every connection and stops the timer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const entry of [...this.#entries.values()]) entry.stream.destroy();
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #host = {
    micros: () => this.#micros(),
    schedule: (connection: UtpConnection) => this.#schedule(connection),
    release: (connection: UtpConnection) => this.#release(connection),
  };

  #receive(datagram: Buffer, from: RemoteInfo): void {
    if (this.#closed) return;
    const decoded = decodeUtpPacket(datagram);
    if (!decoded.ok) {
      this.dropped++;
      return;
    }
    const packet = decoded.packet;
    const now = this.#micros();
    if (packet.type === 'syn') {
      this.#onSyn(packet, from, now);
      return;
    }
    if (packet.type === 'reset') {
      const target = this.#resetTarget(from, packet.connectionId);
      if (target === undefined) this.dropped++;
      else target.connection.receive(packet, now);
      return;
    }
    const entry = this.#entries.get(key(from.address, from.port, packet.connectionId));
    if (entry === undefined) {
      this.dropped++;
      // A peer still talking to a connection we do not have (we restarted on this port, or we
      // closed it): tell it at once with an ST_RESET, as libutp does. Never for a RESET (no
      // ping-pong), one for one and no bigger than what came (no amplification), bounded per tick.
      // The budget renews by the clock, not by the tick: a process with no connection has no tick.
      const ms = this.#clock.now();
      if (ms - this.#resetsSince >= this.#tickMs) {
        this.#resetsSince = ms;
        this.#resets = 0;
      }
      if (this.#resets++ < this.#maxResets) this.#sendReset(packet, from, now);
      return;
    }
    if (entry.halfOpenSince !== undefined) {
      entry.halfOpenSince = undefined;
      this.#halfOpen--;
      this.emit('connection', entry.stream);
    }
    entry.connection.receive(packet, now);
    this.#schedule(entry.connection);
  }

  /**
   * The connection an ST_RESET is for. Its id is our receive id (sent by a live connection)
   * or our send id (echoed by a peer that no longer knows the connection), our receive id
   * then being that ± 1: libutp's rule, so resets from either kind of peer land.
   */
  #resetTarget(from: RemoteInfo, id: number): Entry | undefined {
    const own = this.#entries.get(key(from.address, from.port, id));
    if (own !== undefined) return own;
    for (const recvId of [id + 1, id - 1]) {
      const entry = this.#entries.get(key(from.address, from.port, recvId));
      if (entry !== undefined && entry.connection.sendId === (id & 0xffff)) return entry;
    }
    return undefined;
  }

  #onSyn(syn: UtpPacket, from: RemoteInfo, now: number): void {
    const k = key(from.address, from.port, syn.connectionId + 1);
    const existing = this.#entries.get(k);
    if (existing !== undefined) {
      existing.connection.receive(syn, now);
      this.#schedule(existing.connection);
      return;
    }
    if (this.#halfOpen >= this.#maxHalfOpen || this.#entries.size >= this.#maxConnections) {
      this.dropped++;
      return;
    }
    const family = from.family === 'IPv6' ? 'IPv6' : 'IPv4';
    const stream = new UtpStream(this.#host, { address: from.address, port: from.port, family });
    let unconfirmed = (): boolean => true;
    const sink = stream.sink(
      (datagram) => this.#send(datagram, from.port, from.address),
      () => {},
      // Closed before anyone was given the stream (reset or timed out half-open): no 'error'
      // event on a stream nobody can be listening to.
      () => unconfirmed(),
    );
    const entry: Entry = {
      connection: undefined as unknown as UtpConnection,
      stream,
      host: from.address,
      port: from.port,
      halfOpenSince: now,
    };
    unconfirmed = () => entry.halfOpenSince !== undefined;
    this.#entries.set(k, entry);
    this.#halfOpen++;
    const connection = UtpConnection.accept(sink, syn, this.#random(0x10000), now, this.#options);
    entry.connection = connection;
    this.#byConnection.set(connection, k);
    stream.attach(connection);
    this.#arm();
  }

  #sendReset(packet: UtpPacket, from: RemoteInfo, now: number): void {
    const reset = encodeUtpPacket({
      type: 'reset',
      connectionId: packet.connectionId,
      timestamp: Math.floor(now) >>> 0,
      timestampDiff: 0,
      windowSize: 0,
      seq: 0,
      ack: packet.seq,
      payload: new Uint8Array(0),
    });
    this.#send(reset, from.port, from.address);
  }

  #schedule(connection: UtpConnection): void {
    this.#dirty.add(connection);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flushDirty());
  }

  #flushDirty(): void {
    this.#flushScheduled = false;
    const now = this.#micros();
    for (const connection of this.#dirty) connection.flush(now);
    this.#dirty.clear();
  }

  #release(connection: UtpConnection): void {
    const k = this.#byConnection.get(connection);
    if (k === undefined) return;
    this.#byConnection.delete(connection);
    const entry = this.#entries.get(k);
    if (entry?.halfOpenSince !== undefined) this.#halfOpen--;
    this.#entries.delete(k);
    this.#dirty.delete(connection);
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => this.#tick(), this.#tickMs);
  }

  #tick(): void {
    this.#timer = undefined;
    const now = this.#micros();
    for (const entry of [...this.#entries.values()]) {
      if (entry.halfOpenSince !== undefined && now - entry.halfOpenSince >= this.#halfOpenTimeout) {
        // A SYN never followed up (a flood, or a scan): forget it (one ST_RESET goes back).
        entry.stream.destroy();
        continue;
      }
      entry.connection.tick(now);
    }
    if (this.#entries.size > 0) this.#arm();
  }
}

function key(host: string, port: number, connectionId: number): string {
  return `${host}|${port}|${connectionId & 0xffff}`;
}
