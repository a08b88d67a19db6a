import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PeerAddress } from '../address.js';
import { type Clock, systemClock } from '../clock.js';
import { LodestoneError } from '../errors.js';
import { MseReceiver } from '../net/mse/handshake.js';
import {
  acceptsMse,
  acceptsPlainHandshake,
  type ConnectionEncryption,
  type EncryptionPolicy,
  mseMethods,
} from '../net/mse/policy.js';
import { MseStream } from '../net/mse-stream.js';
import { checkHandshakePrefix, decodeHandshake, HANDSHAKE_LENGTH } from '../wire/index.js';
import type { Handshake } from '../wire/types.js';
import type { PeerTransport } from './dial-transport.js';
import { PendingTable } from './pending-table.js';

export interface ListenerOptions {
  /** First port to try. @default 6881 */
  port?: number;
  /** Further ports tried when the first is taken. @default 10 */
  portAttempts?: number;
  /** Address to bind; default all interfaces (IPv4 and IPv6). */
  host?: string;
  /** Time allowed for a complete handshake while at most half the pending table is used. @default 10000 */
  handshakeTimeoutMs?: number;
  /**
   * Time allowed for a complete handshake when the pending table is full; the deadline falls
   * linearly from `handshakeTimeoutMs` at half full to this. @default 2000 (at most `handshakeTimeoutMs`)
   */
  minHandshakeTimeoutMs?: number;
  /**
   * Most connections still handshaking at once (slowloris bound). When full, a newcomer takes the
   * slot of the oldest connection of the busiest address, or of the oldest connection once it has
   * had `pendingMinAgeMs` to handshake; only if neither applies is the newcomer closed. @default 64
   */
  maxPendingHandshakes?: number;
  /**
   * Most connections still handshaking at once from one remote address, so a few hosts opening
   * many silent connections cannot use up `maxPendingHandshakes`. @default 4
   */
  maxPendingHandshakesPerHost?: number;
  /**
   * Age a pending connection reaches before a newcomer may take its slot merely for it being the
   * oldest (honest peers send their handshake at once). @default 1000 (at most the minimum deadline)
   */
  pendingMinAgeMs?: number;
  /** Time source for the handshake deadlines. @default systemClock */
  clock?: Clock;
  /** Which handshakes are accepted: plaintext, MSE/PE, or both. @default 'prefer' (both) */
  encryption?: EncryptionPolicy;
  /**
   * The info-hash whose HASH('req2', info-hash) this is, among our torrents, for an MSE
   * handshake (the "SKEY"). Without it every MSE handshake fails as for an unknown torrent.
   */
  lookupSkey?: (req2: Buffer) => Uint8Array | undefined;
  /** Keys and padding of MSE handshakes. @default node:crypto randomBytes */
  random?: (length: number) => Uint8Array;
}

export interface ListenerEvents {
  /**
   * A peer finished its handshake; the receiver routes it by info-hash or destroys the stream.
   * `stream` is the socket itself, or the byte duplex above an MSE handshake.
   */
  handshake: [
    stream: Duplex,
    handshake: Handshake,
    leftover: Uint8Array,
    address: PeerAddress,
    encryption: ConnectionEncryption,
    transport: PeerTransport,
  ];
  /**
   * A connection was dropped during its handshake for a reason other than the table's bounds:
   * a refused kind of handshake (plaintext under `require`, MSE under `disable`), a failed MSE
   * handshake (its error message), or a BitTorrent handshake that does not decode.
   */
  'handshake-failed': [address: PeerAddress, reason: string];
  /**
   * A connection was closed before its handshake to keep the pending table within bounds:
   * `evicted` (its slot went to a newcomer, or its deadline passed under pressure), `host-limit`
   * or `full` (the newcomer itself was refused).
   */
  'pending-dropped': [address: PeerAddress, reason: 'evicted' | 'host-limit' | 'full'];
}

/**
 * Accepts incoming peers, reads just their handshake (bounded in time and
 * bytes) and hands them to whoever owns that info-hash.
 */
export class PeerListener extends EventEmitter<ListenerEvents> {
  readonly #options: ListenerOptions;
  readonly #clock: Clock;
  /** Connections still handshaking: the sockets, and the table deciding who may stay. */
  readonly #pending = new Map<Duplex, PeerAddress>();
  readonly #table: PendingTable<Duplex>;
  #peakPending = 0;
  #server: Server | undefined;
  #port = 0;

  constructor(options: ListenerOptions = {}) {
    super();
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    const deadlineMs = options.handshakeTimeoutMs ?? 10_000;
    const minDeadlineMs = Math.min(deadlineMs, options.minHandshakeTimeoutMs ?? 2000);
    this.#table = new PendingTable({
      capacity: options.maxPendingHandshakes ?? 64,
      maxPerHost: options.maxPendingHandshakesPerHost ?? 4,
      deadlineMs,
      minDeadlineMs,
      minAgeMs: Math.min(minDeadlineMs, options.pendingMinAgeMs ?? 1000),
    });
  }

  get port(): number {
    return this.#port;
  }

  /** Connections accepted and still handshaking now. */
  get pendingHandshakes(): number {
    return this.#table.size;
  }

  /** The most connections that were handshaking at once since the listener was made. */
  get peakPendingHandshakes(): number {
    return this.#peakPending;
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
    for (const socket of [...this.#pending.keys()]) socket.destroy();
    this.#pending.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #tryListen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) =>
        this.#onConnection(socket, socket.remoteAddress, socket.remotePort, 'tcp'),
      );
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

  /**
   * An incoming connection over another transport (a uTP stream): it goes through the same
   * pending table, deadline, plaintext/MSE detection and routing as a TCP connection.
   */
  accept(stream: Duplex, remote: PeerAddress, transport: PeerTransport): void {
    this.#onConnection(stream, remote.host, remote.port, transport);
  }

  #onConnection(
    socket: Duplex,
    host: string | undefined,
    port: number | undefined,
    transport: PeerTransport,
  ): void {
    if (!host || !port) {
      socket.destroy();
      return;
    }
    const address: PeerAddress = { host: host.startsWith('::ffff:') ? host.slice(7) : host, port };
    const admission = this.#table.admit(socket, address.host, this.#clock.now());
    for (const evicted of admission.evict) {
      const from = this.#pending.get(evicted);
      evicted.destroy();
      if (from) this.emit('pending-dropped', from, 'evicted');
    }
    if (!admission.accept) {
      socket.destroy();
      this.emit('pending-dropped', address, admission.reason);
      return;
    }
    this.#pending.set(socket, address);
    this.#peakPending = Math.max(this.#peakPending, this.#table.size);
    const timer = this.#clock.setTimeout(() => {
      this.#table.timedOut(socket);
      socket.destroy();
    }, admission.deadlineMs);
    let finished = false;
    let reader: Duplex = socket;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      this.#clock.clearTimeout(timer);
      this.#pending.delete(socket);
      this.#table.remove(socket);
      socket.off('data', onData);
      reader.off('data', onData);
    };
    const policy = this.#options.encryption ?? 'prefer';
    const drop = (reason: string): void => {
      finish();
      socket.destroy();
      this.emit('handshake-failed', address, reason);
    };
    let buffered = Buffer.alloc(0);
    let mse: MseReceiver | undefined;
    let encryption: ConnectionEncryption = 'plain';
    let expectedInfoHash: Uint8Array | undefined;
    const onMse = (chunk: Buffer): void => {
      try {
        const step = mse!.push(chunk);
        if (step.send) socket.write(step.send);
        if (!step.done) return;
        // The BitTorrent handshake follows inside the stream (usually all of it in the initial payload).
        socket.off('data', onData);
        mse = undefined;
        encryption = step.done.method === 'rc4' ? 'rc4' : 'plain';
        expectedInfoHash = step.done.infoHash;
        reader = new MseStream(socket, step.done, step.done.payload);
        reader.on('error', () => reader.destroy());
        reader.on('data', onData);
      } catch (error) {
        drop(error instanceof LodestoneError ? error.message : 'bad encryption handshake');
      }
    };
    const onData = (chunk: Buffer): void => {
      if (mse) {
        onMse(chunk);
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      if (reader === socket && looksLikeAnotherProtocol(buffered)) {
        drop('not a BitTorrent handshake');
        return;
      }
      if (reader === socket && !isPlaintextPrefix(buffered)) {
        // Not "\x13BitTorrent protocol": an MSE handshake (its first 96 bytes are a DH key).
        if (!acceptsMse(policy)) {
          drop('encrypted handshake refused (--encryption disable)');
          return;
        }
        mse = new MseReceiver({
          lookup: this.#options.lookupSkey ?? (() => undefined),
          accept: mseMethods(policy),
          random: this.#options.random ?? randomBytes,
        });
        const first = buffered;
        buffered = Buffer.alloc(0);
        onMse(first);
        return;
      }
      if (reader === socket && buffered.length >= 20 && !acceptsPlainHandshake(policy)) {
        drop('plaintext handshake refused (--encryption require)');
        return;
      }
      if (buffered.length < HANDSHAKE_LENGTH) {
        // Another protocol (HTTP, a port scanner…) is told apart by its first bytes: drop it
        // now rather than holding a pending slot until the handshake timeout.
        try {
          checkHandshakePrefix(buffered);
        } catch {
          drop('not a BitTorrent handshake');
        }
        return;
      }
      finish();
      reader.pause();
      let handshake: Handshake;
      try {
        handshake = decodeHandshake(buffered.subarray(0, HANDSHAKE_LENGTH));
      } catch {
        drop('bad BitTorrent handshake');
        return;
      }
      if (expectedInfoHash && !Buffer.from(expectedInfoHash).equals(Buffer.from(handshake.infoHash))) {
        drop('the BitTorrent handshake names another torrent than the encryption handshake');
        return;
      }
      this.emit(
        'handshake',
        reader,
        handshake,
        buffered.subarray(HANDSHAKE_LENGTH),
        address,
        encryption,
        transport,
      );
      if (this.listenerCount('handshake') === 0) reader.destroy();
      else reader.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
    socket.once('close', finish);
  }
}

const PROTOCOL_HEADER = Buffer.from('\x13BitTorrent protocol', 'latin1');

/** The bytes so far could still be the start of a plaintext BitTorrent handshake. */
function isPlaintextPrefix(bytes: Buffer): boolean {
  const end = Math.min(bytes.length, PROTOCOL_HEADER.length);
  for (let i = 0; i < end; i++) if (bytes[i] !== PROTOCOL_HEADER[i]) return false;
  return true;
}

const OTHER_PROTOCOLS = ['GET ', 'POST', 'HEAD', 'PUT ', 'OPTI', 'CONN'].map((m) => Buffer.from(m, 'latin1'));

/**
 * Bytes that are neither a plaintext handshake nor plausibly an MSE key, told apart early so a
 * pending slot is not held until the deadline: a handshake whose protocol string starts right
 * and then differs ("\x13Bit…" then another byte), or an HTTP request line. An MSE key (random)
 * begins like either with odds of about 2^-32.
 */
function looksLikeAnotherProtocol(bytes: Buffer): boolean {
  const end = Math.min(bytes.length, PROTOCOL_HEADER.length);
  let matched = 0;
  while (matched < end && bytes[matched] === PROTOCOL_HEADER[matched]) matched++;
  if (matched >= 4 && matched < end) return true;
  if (bytes.length < 4) return false;
  return OTHER_PROTOCOLS.some((method) => method.equals(bytes.subarray(0, 4)));
}
