import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatAddress, type PeerAddress } from '../address.js';
import { type Clock, systemClock } from '../clock.js';
import { LodestoneError } from '../errors.js';
import { asError, warnUnheard } from '../internal-errors.js';
import type { ChunkSource } from '../net/chunk-relay.js';
import type { ConnectionEncryption } from '../net/mse/policy.js';
import {
  checkHandshakePrefix,
  decodeHandshake,
  encodeHandshake,
  encodeHaves,
  encodeMessage,
  encodePieceHeader,
  encodeRequests,
  HANDSHAKE_LENGTH,
  MessageDecoder,
} from '../wire/index.js';
import type { Handshake, Message } from '../wire/types.js';
import type { PeerTransport } from './dial-transport.js';
import { IDLE_TIMEOUT_MS, KEEPALIVE_INTERVAL_MS, Liveness, UTP_PROBE_AFTER_MS } from './liveness.js';
import { RateMeter } from './rate-meter.js';
import type { ConnectionThrottles } from './throttle.js';

export type Direction = 'inbound' | 'outbound';

/**
 * Longest a `have` waits to share a socket write with other messages. During
 * a download a have per piece per peer would otherwise be a write (and on
 * loopback a wake-up of the peer) each: 12,000 syscalls per GiB with three
 * peers. Pieces become interesting to others a few ms later, which costs nothing.
 */
const HAVE_COALESCE_MS = 50;

/** A piece message's header: length prefix, id, index and begin. */
const PIECE_HEADER_LENGTH = 13;

export interface PeerConnectionOptions {
  /** The connection's bytes: a TCP socket, or any byte duplex (an encrypted stream, uTP). */
  socket: Duplex;
  address: PeerAddress;
  direction: Direction;
  /** Our handshake, sent at once for outbound connections and after routing for inbound ones. */
  localHandshake: Handshake;
  /** Already received handshake and any bytes after it (inbound connections, from the listener). */
  remoteHandshake?: Handshake;
  leftover?: Uint8Array;
  /** Bounds the largest message we accept (a bitfield for this many pieces). */
  pieceCount?: number;
  /** @default 10000 */
  handshakeTimeoutMs?: number;
  /** The socket's reads when it reads into a reusable buffer (dialled sockets); otherwise 'data' events. */
  reads?: ChunkSource;
  /** Our handshake already went out (as the initial payload of an encryption handshake). @default false */
  handshakeSent?: boolean;
  /** The transport under it, for events and --trace. @default 'tcp' */
  transport?: PeerTransport;
  /** What the connection carries, for events and --trace. @default 'plain' */
  encryption?: ConnectionEncryption;
  /** Time and timers (handshake, idle, keep-alive, have coalescing). @default systemClock */
  clock?: Clock;
  /** A peer that sends nothing for this long is dropped. @default 180000 */
  idleTimeoutMs?: number;
  /** A keep-alive is sent after this long without sending anything. @default 90000 */
  keepAliveIntervalMs?: number;
}

export interface PeerConnectionEvents {
  handshake: [Handshake];
  message: [Message];
  close: [reason: string | undefined];
  /** Every message in both directions, for --trace. */
  wire: [direction: 'in' | 'out', message: Message];
  /**
   * A listener (the session) threw while handling this connection's handshake, a message or
   * its close: a programming error, not the peer's fault. The connection is closed ("internal
   * error: …") and the error is given here; with no listener it becomes a process warning.
   */
  'internal-error': [Error];
}

/**
 * One peer: the socket, the wire codec and the BEP 3 flow state. It knows
 * nothing of pieces or policy; the session reacts to its `message` events.
 */
export class PeerConnection extends EventEmitter<PeerConnectionEvents> {
  readonly address: PeerAddress;
  readonly key: string;
  readonly direction: Direction;
  /** `rc4` after an MSE handshake that selected RC4; `plain` otherwise. */
  readonly encryption: ConnectionEncryption;
  /** The transport under the wire (a label for events and --trace; the wire does not care). */
  readonly transport: PeerTransport;
  readonly download = new RateMeter();
  readonly upload = new RateMeter();
  amChoking = true;
  amInterested = false;
  peerChoking = true;
  peerInterested = false;
  remoteHandshake: Handshake | undefined;
  /** Set when the session wants wire events; avoids building them otherwise. */
  traced = false;
  /** When the peer last sent us bytes, on `clock`. */
  lastReceivedAt: number;
  /** When we last sent the peer bytes, on `clock`. */
  lastSentAt: number;
  closed = false;
  /**
   * Cancels we sent: each may cross a block already on its way, so the session tolerates that
   * many unrequested blocks before it calls a peer's unrequested blocks a flood.
   */
  cancelsSent = 0;

  readonly #socket: Duplex;
  readonly #decoder: MessageDecoder;
  readonly #localHandshake: Handshake;
  #handshakeBuffer: Buffer | undefined = Buffer.alloc(0);
  readonly #clock: Clock;
  readonly #liveness: Liveness;
  #handshakeTimer: unknown;
  #pendingHaves: number[] = [];
  #haveTimer: unknown;
  #closeReason: string | undefined;
  #throttles: ConnectionThrottles | undefined;
  /** Reads are paused by the caller (`pause`) or while the download throttle is in debt. */
  #pausedByCaller = false;
  #cancelReadWait: (() => void) | undefined;
  #cancelWriteWait: (() => void) | undefined;

  constructor(options: PeerConnectionOptions) {
    super();
    this.address = options.address;
    this.key = formatAddress(options.address);
    this.direction = options.direction;
    this.encryption = options.encryption ?? 'plain';
    this.transport = options.transport ?? 'tcp';
    this.#socket = options.socket;
    this.#localHandshake = options.localHandshake;
    this.#clock = options.clock ?? systemClock;
    this.lastReceivedAt = this.#clock.now();
    this.lastSentAt = this.lastReceivedAt;
    this.#liveness = new Liveness(
      this,
      this.#clock,
      options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
      options.keepAliveIntervalMs ?? KEEPALIVE_INTERVAL_MS,
      this.transport === 'utp' ? UTP_PROBE_AFTER_MS : undefined,
    );
    // Every consumer copies what it keeps (blocks go into piece buffers), so the decoder may
    // reuse its memory for the bytes it has to copy.
    this.#decoder = new MessageDecoder({
      reuseMemory: true,
      ...(options.pieceCount === undefined ? {} : { pieceCount: options.pieceCount }),
    });
    (this.#socket as Partial<Pick<Socket, 'setNoDelay'>>).setNoDelay?.(true);
    if (options.reads) options.reads.attach((chunk) => this.#onData(chunk, true));
    else this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk, false));
    this.#socket.on('error', (error) => this.close(error.message));
    this.#socket.on('close', () => this.close(this.#closeReason ?? 'connection closed by peer'));
    if (options.remoteHandshake) {
      this.remoteHandshake = options.remoteHandshake;
      this.#handshakeBuffer = undefined;
      this.#write(encodeHandshake(this.#localHandshake));
      if (options.leftover && options.leftover.length > 0) {
        const leftover = options.leftover;
        queueMicrotask(() => this.#onMessages(leftover, false));
      }
    } else {
      if (!options.handshakeSent) this.#write(encodeHandshake(this.#localHandshake));
      this.#handshakeTimer = this.#clock.setTimeout(
        () => this.close('no handshake from peer'),
        options.handshakeTimeoutMs ?? 10_000,
      );
    }
    this.#liveness.start();
  }

  get peerId(): Uint8Array | undefined {
    return this.remoteHandshake?.peerId;
  }

  /** Bytes waiting in the socket's send buffer: the session's upload backpressure signal. */
  get writableLength(): number {
    return this.#socket.writableLength;
  }

  send(message: Message): void {
    if (this.closed) return;
    switch (message.type) {
      case 'choke':
        this.amChoking = true;
        break;
      case 'unchoke':
        this.amChoking = false;
        break;
      case 'interested':
        this.amInterested = true;
        break;
      case 'not-interested':
        this.amInterested = false;
        break;
      case 'cancel':
        this.cancelsSent++;
        break;
      case 'have':
        // A dialled peer whose handshake has not arrived yet gets our availability as the
        // bitfield sent on its handshake, which will include this piece: a have now would come
        // before that bitfield, which BEP 3 forbids (and strict clients drop a peer for).
        if (this.remoteHandshake === undefined) return;
        if (this.traced) this.emit('wire', 'out', message);
        this.#queueHave(message.index);
        return;
    }
    if (this.traced) this.emit('wire', 'out', message);
    this.#write(encodeMessage(message));
  }

  /** Requests several blocks in one socket write. */
  sendRequests(requests: readonly { index: number; begin: number; length: number }[]): void {
    if (this.closed || requests.length === 0) return;
    if (this.traced)
      for (const request of requests) this.emit('wire', 'out', { type: 'request', ...request });
    this.#write(encodeRequests(requests));
  }

  /**
   * Sends a block without copying it into a new message buffer. `onSent` runs
   * once the socket no longer needs the bytes (written to the kernel, or the
   * connection failed), so the caller may then reuse the memory.
   */
  sendPiece(index: number, begin: number, block: Uint8Array, onSent?: () => void): void {
    if (this.closed) {
      onSent?.();
      return;
    }
    if (this.traced) this.emit('wire', 'out', { type: 'piece', index, begin, block });
    this.#socket.cork();
    this.#flushHaves();
    this.#socket.write(encodePieceHeader(index, begin, block.length));
    this.#socket.write(block, onSent);
    this.#socket.uncork();
    this.#throttles?.upload.use(block.length + PIECE_HEADER_LENGTH);
    this.upload.add(block.length);
    this.lastSentAt = this.#clock.now();
  }

  /** Resolves once the socket's send buffer has drained (or the connection closed). */
  waitForDrain(): Promise<void> {
    if (this.closed || !this.#socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.#socket.once('drain', done);
      this.once('close', done);
    });
  }

  pause(): void {
    this.#pausedByCaller = true;
    this.#socket.pause();
  }

  resume(): void {
    this.#pausedByCaller = false;
    if (this.#cancelReadWait === undefined) this.#socket.resume();
  }

  /**
   * Rate limits: every byte read and written is paid into these (docs/rate-limits.md). Reading
   * pauses while the download side is in debt (the socket's receive window then closes);
   * writes are never held here: the uploader waits with {@link waitForUploadQuota}.
   */
  setThrottles(throttles: ConnectionThrottles): void {
    this.#throttles = throttles;
  }

  /** True while the upload throttle is in debt: a piece sent now would exceed the limit. */
  get uploadThrottled(): boolean {
    const upload = this.#throttles?.upload;
    return upload?.limited === true && upload.delayMs() > 0;
  }

  /** Resolves once the upload throttle allows more bytes (or the connection closed). */
  waitForUploadQuota(): Promise<void> {
    const upload = this.#throttles?.upload;
    if (this.closed || upload === undefined || !upload.limited || upload.delayMs() === 0)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.off('close', done);
        this.#cancelWriteWait?.();
        this.#cancelWriteWait = undefined;
        resolve();
      };
      this.once('close', done);
      this.#cancelWriteWait = upload.wait(done);
    });
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.#closeReason = reason;
    this.#clock.clearTimeout(this.#handshakeTimer);
    this.#clock.clearTimeout(this.#haveTimer);
    this.#liveness.stop();
    this.#cancelReadWait?.();
    this.#cancelReadWait = undefined;
    this.#socket.destroy();
    this.#dispatch(() => this.emit('close', reason));
  }

  #write(bytes: Uint8Array): void {
    if (this.#pendingHaves.length > 0) {
      // Haves waiting to be coalesced go first, in the same syscall.
      this.#socket.cork();
      this.#flushHaves();
      this.#socket.write(bytes);
      this.#socket.uncork();
    } else {
      this.#socket.write(bytes);
    }
    this.#throttles?.upload.use(bytes.length);
    this.lastSentAt = this.#clock.now();
  }

  /** Pays for received bytes; while the download throttle is in debt, reading stops. */
  #payRead(bytes: number): void {
    const download = this.#throttles!.download;
    if (!download.limited) return;
    download.use(bytes);
    if (this.#cancelReadWait !== undefined || download.delayMs() === 0) return;
    this.#socket.pause();
    let waiting = true;
    const cancel = download.wait(() => {
      waiting = false;
      this.#cancelReadWait = undefined;
      if (!this.closed && !this.#pausedByCaller) this.#socket.resume();
    });
    if (waiting) this.#cancelReadWait = cancel;
  }

  #queueHave(index: number): void {
    this.#pendingHaves.push(index);
    if (this.#haveTimer !== undefined) return;
    this.#haveTimer = this.#clock.setTimeout(() => {
      this.#flushHaves();
      this.lastSentAt = this.#clock.now();
    }, HAVE_COALESCE_MS);
  }

  #flushHaves(): void {
    this.#clock.clearTimeout(this.#haveTimer);
    this.#haveTimer = undefined;
    if (this.#pendingHaves.length === 0 || this.closed) return;
    const haves = encodeHaves(this.#pendingHaves);
    this.#pendingHaves = [];
    this.#socket.write(haves);
    this.#throttles?.upload.use(haves.length);
  }

  /** `borrowed`: the chunk's memory is reused after this call, so nothing may keep a view of it. */
  #onData(chunk: Buffer, borrowed: boolean): void {
    if (this.closed) return;
    this.lastReceivedAt = this.#clock.now();
    if (this.#throttles !== undefined) this.#payRead(chunk.length);
    if (this.#handshakeBuffer !== undefined) {
      const buffered = Buffer.concat([this.#handshakeBuffer, chunk]);
      if (buffered.length < HANDSHAKE_LENGTH) {
        // A peer speaking another protocol shows it in its first bytes: no need to wait for 68.
        try {
          checkHandshakePrefix(buffered);
        } catch (error) {
          this.close(error instanceof LodestoneError ? error.message : 'bad handshake');
          return;
        }
        this.#handshakeBuffer = buffered;
        return;
      }
      this.#handshakeBuffer = undefined;
      this.#clock.clearTimeout(this.#handshakeTimer);
      try {
        this.remoteHandshake = decodeHandshake(buffered.subarray(0, HANDSHAKE_LENGTH));
      } catch (error) {
        this.close(error instanceof LodestoneError ? error.message : 'bad handshake');
        return;
      }
      if (!Buffer.from(this.remoteHandshake.infoHash).equals(Buffer.from(this.#localHandshake.infoHash))) {
        this.close('peer answered with another info-hash');
        return;
      }
      const remote = this.remoteHandshake;
      this.#dispatch(() => this.emit('handshake', remote));
      if (this.closed) return;
      // `buffered` is a copy, so the rest of it is ours to keep.
      const rest = buffered.subarray(HANDSHAKE_LENGTH);
      if (rest.length > 0) this.#onMessages(rest, false);
      return;
    }
    this.#onMessages(chunk, borrowed);
  }

  #onMessages(chunk: Uint8Array, borrowed: boolean): void {
    for (let message = this.#decode(chunk); message !== undefined; message = this.#decode()) {
      this.#track(message);
      try {
        if (this.traced) this.emit('wire', 'in', message);
        this.emit('message', message);
      } catch (thrown) {
        this.#internalError(thrown);
        return;
      }
      if (this.closed) return;
    }
    // Listeners consume messages synchronously (blocks are copied into piece buffers).
    if (borrowed) this.#decoder.detach();
  }

  /**
   * The next message, after pushing `chunk` if given. What the decoder throws is the peer's
   * fault (a WireError: a protocol violation) and ends only this connection.
   */
  #decode(chunk?: Uint8Array): Message | undefined {
    try {
      if (chunk !== undefined) this.#decoder.push(chunk);
      return this.#decoder.next();
    } catch (error) {
      this.close(error instanceof LodestoneError ? error.message : `bad message: ${asError(error).message}`);
      return undefined;
    }
  }

  /**
   * Calls listeners. What they throw is a bug on our side, not the peer's: the connection is
   * closed (one peer, not the process) and the error is reported as 'internal-error' (a process
   * warning if nobody listens), never swallowed. Messages take the same path, inline.
   */
  #dispatch(emit: () => void): void {
    try {
      emit();
    } catch (thrown) {
      this.#internalError(thrown);
    }
  }

  #internalError(thrown: unknown): void {
    const error = asError(thrown);
    this.close(`internal error: ${error.message}`);
    if (this.listenerCount('internal-error') > 0) this.emit('internal-error', error);
    else warnUnheard('internal-error', error, `peer ${this.key}`);
  }

  #track(message: Message): void {
    switch (message.type) {
      case 'choke':
        this.peerChoking = true;
        break;
      case 'unchoke':
        this.peerChoking = false;
        break;
      case 'interested':
        this.peerInterested = true;
        break;
      case 'not-interested':
        this.peerInterested = false;
        break;
      case 'piece':
        this.download.add(message.block.length);
        break;
    }
  }
}
