/**
 * One uTP connection (BEP 29) as a pure state machine: packets and the time
 * (microseconds) go in, datagrams to send, delivered bytes and state changes
 * come out through a sink. No sockets, no timers: the owner calls `tick` now
 * and then and `flush` after feeding packets, so tests drive it with any clock.
 *
 * Sequence numbers are 16-bit and wrap; the initiator sends ST_SYN with its
 * receive id, the acceptor's ids are that + 1 (receive) and that (send).
 */
import { Ledbat, type LedbatOptions } from './ledbat.js';
import { encodeUtpPacket, seqDiff, type UtpPacket, type UtpPacketType } from './packet.js';
import { ReceiveBuffer } from './receive-buffer.js';
import { SendQueue } from './send-queue.js';
import { MAX_IN_FLIGHT, type OutPacket, SendWindow } from './send-window.js';
import { UtpError } from './utp-error.js';

export interface UtpConnectionSink {
  /** A datagram to put on the wire. */
  send(datagram: Buffer): void;
  /** Bytes from the peer, in order. */
  data(bytes: Uint8Array): void;
  /** The handshake completed (initiator only). */
  connected(): void;
  /** The peer finished sending (its FIN and everything before it arrived). */
  end(): void;
  /** The send buffer has room again after `write` returned false. */
  drain(): void;
  /** Terminal: closed cleanly (no error) or failed. Called once. */
  closed(error?: UtpError): void;
}

export interface UtpConnectionOptions {
  /** Largest payload per packet; a constant, no MTU discovery. @default 1400 */
  mss?: number;
  /** Bytes written and not yet acknowledged before `write` returns false. @default 1 MiB */
  sendBufferBytes?: number;
  /** Bytes received and not yet read (plus out of order) we accept. @default 1 MiB */
  receiveBufferBytes?: number;
  /** Retransmission timeout before any RTT sample, ms. @default 1000 */
  initialTimeoutMs?: number;
  /** The retransmission timeout never goes under this, ms. @default 500 */
  minTimeoutMs?: number;
  /** Consecutive timeouts of the same data before giving up. @default 5 */
  maxTimeouts?: number;
  /**
   * Packets in flight and not one packet from the peer for this long fails the connection,
   * whatever the retransmission count: a bound on the exponential backoff, so a peer that
   * vanished (killed, unplugged) is let go in bounded time, ms. @default 20000
   */
  deadPeerTimeoutMs?: number;
  /** SYN retransmissions before giving up. @default 3 */
  synRetries?: number;
  /** A peer window too small for one packet, with data waiting, for this long fails the connection, ms. @default 60000 */
  zeroWindowTimeoutMs?: number;
  /** Send an ST_STATE after this much silence on our side, ms. @default 29000 */
  keepAliveMs?: number;
  ledbat?: Omit<LedbatOptions, 'mss'>;
}

export type UtpConnectionState = 'syn-sent' | 'connected' | 'closed';

export class UtpConnection {
  readonly sendId: number;
  readonly recvId: number;
  readonly #sink: UtpConnectionSink;
  readonly #mss: number;
  readonly #sendBufferBytes: number;
  readonly #receiveBufferBytes: number;
  readonly #maxTimeouts: number;
  readonly #deadPeerTimeout: number;
  readonly #zeroWindowTimeout: number;
  readonly #keepAlive: number;
  readonly #ledbat: Ledbat;
  #state: UtpConnectionState;
  /** Packets in flight, acks, the round-trip estimate and the retransmission timer. */
  readonly #window: SendWindow;
  readonly #queue = new SendQueue();
  readonly #recv: ReceiveBuffer;
  #readBacklog = 0;
  /** The window used for sending: the peer's, or one packet while probing a shut one. */
  #peerWindow: number;
  /** The window the peer last advertised. */
  #advertised: number;
  #replyDelay = 0;
  #ackNeeded = false;
  #writeBlocked = false;
  #finQueued = false;
  #finSent = false;
  #zeroWindowSince: number | undefined;
  #lastSent: number;
  /** When the last valid packet came from the peer (µs). */
  #lastReceived: number;
  #synRetriesLeft: number;

  private constructor(
    sink: UtpConnectionSink,
    ids: { sendId: number; recvId: number; seq: number; ackNr: number },
    state: UtpConnectionState,
    now: number,
    options: UtpConnectionOptions,
  ) {
    this.#sink = sink;
    this.sendId = ids.sendId & 0xffff;
    this.recvId = ids.recvId & 0xffff;
    this.#mss = options.mss ?? 1400;
    this.#sendBufferBytes = options.sendBufferBytes ?? 1024 * 1024;
    this.#receiveBufferBytes = options.receiveBufferBytes ?? 1024 * 1024;
    this.#maxTimeouts = options.maxTimeouts ?? 5;
    this.#deadPeerTimeout = (options.deadPeerTimeoutMs ?? 20_000) * 1000;
    this.#synRetriesLeft = options.synRetries ?? 3;
    this.#zeroWindowTimeout = (options.zeroWindowTimeoutMs ?? 60_000) * 1000;
    this.#keepAlive = (options.keepAliveMs ?? 29_000) * 1000;
    this.#ledbat = new Ledbat({ ...options.ledbat, mss: this.#mss });
    this.#state = state;
    this.#window = new SendWindow(ids.seq, this.#ledbat, {
      initialUs: (options.initialTimeoutMs ?? 1000) * 1000,
      minUs: (options.minTimeoutMs ?? 500) * 1000,
    });
    this.#recv = new ReceiveBuffer(ids.ackNr, Math.ceil(this.#receiveBufferBytes / this.#mss) + 8);
    this.#peerWindow = this.#advertised = this.#mss;
    this.#lastSent = now;
    this.#lastReceived = now;
  }

  /** Starts a connection: sends ST_SYN carrying `recvId`; we send with `recvId + 1`. */
  static connect(
    sink: UtpConnectionSink,
    recvId: number,
    seq: number,
    now: number,
    options: UtpConnectionOptions = {},
  ): UtpConnection {
    const ids = { recvId, sendId: recvId + 1, seq, ackNr: 0 };
    const connection = new UtpConnection(sink, ids, 'syn-sent', now, options);
    connection.#sendNew('syn', Buffer.alloc(0), now);
    return connection;
  }

  /** Accepts an ST_SYN: answers with ST_STATE at once. `seq` is our random first sequence number. */
  static accept(
    sink: UtpConnectionSink,
    syn: UtpPacket,
    seq: number,
    now: number,
    options: UtpConnectionOptions = {},
  ): UtpConnection {
    const ids = { sendId: syn.connectionId, recvId: syn.connectionId + 1, seq, ackNr: syn.seq };
    const connection = new UtpConnection(sink, ids, 'connected', now, options);
    connection.#notePeer(syn, now);
    connection.#ackNeeded = true;
    connection.flush(now);
    return connection;
  }

  get state(): UtpConnectionState {
    return this.#state;
  }

  /** Bytes accepted by `write` and not yet acknowledged. */
  get bufferedBytes(): number {
    return this.#queue.bytes + this.#window.flightBytes;
  }

  /** The window we advertise: room left in the receive buffer. */
  get receiveWindow(): number {
    return Math.max(0, this.#receiveBufferBytes - this.#readBacklog - this.#recv.reorderBytes);
  }

  get congestionWindow(): number {
    return this.#ledbat.cwnd;
  }

  /** Current retransmission timeout, ms. */
  get timeoutMs(): number {
    return this.#window.rto / 1000;
  }

  /** Queues bytes; false when the send buffer is full (wait for `drain`). */
  write(bytes: Uint8Array): boolean {
    if (this.#state === 'closed' || this.#finQueued) return false;
    this.#queue.push(bytes);
    const room = this.bufferedBytes < this.#sendBufferBytes;
    if (!room) this.#writeBlocked = true;
    return room;
  }

  /** No more writes: a FIN follows the queued bytes. */
  end(): void {
    this.#finQueued = true;
  }

  /** How many delivered bytes the reader has not consumed (shrinks our window). */
  setReadBacklog(bytes: number, now: number): void {
    const before = this.receiveWindow;
    this.#readBacklog = Math.max(0, bytes);
    // Tell a peer stalled on our window that it opened again.
    if (before < this.#mss && this.receiveWindow >= this.#mss && this.#state === 'connected') {
      this.#ackNeeded = true;
      this.flush(now);
    }
  }

  /** Aborts: sends ST_RESET (when connected) and closes with a `destroyed` error. */
  destroy(now: number): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'connected') this.#emit('reset', Buffer.alloc(0), this.#window.lastSent, now);
    this.#close(new UtpError('destroyed', 'uTP connection destroyed'));
  }

  /** Feeds one packet addressed to this connection (the owner matched the connection id). */
  receive(packet: UtpPacket, now: number): void {
    if (this.#state === 'closed') return;
    if (packet.type === 'reset') {
      // A reset acknowledging what we never sent is not from our peer (libtorrent's check).
      if (seqDiff(packet.ack, this.#window.nextSeq) > 0) return;
      this.#close(
        new UtpError(
          'reset',
          this.#state === 'syn-sent'
            ? 'the peer refused the uTP connection (ST_RESET)'
            : 'the peer reset the uTP connection (ST_RESET): it closed or no longer knows it',
        ),
      );
      return;
    }
    if (packet.type === 'syn') {
      // Our ST_STATE answer was lost: the acceptor answers the same SYN again.
      if (packet.seq === this.#recv.ackNr) this.#ackNeeded = true;
      return;
    }
    // An ack of a packet we never sent is forged or broken: ignore the whole packet.
    if (!this.#window.ackIsPlausible(packet.ack)) return;
    if (this.#state === 'syn-sent') {
      if (packet.ack !== this.#window.lastSent) return;
      this.#state = 'connected';
      // The answer's seq_nr is the acceptor's first data packet, still to come.
      this.#recv.setAckNr((packet.seq - 1) & 0xffff);
      this.#sink.connected();
    }
    this.#lastReceived = now;
    this.#notePeer(packet, now);
    this.#window.processAcks(packet, now);
    if (this.#window.finAcked) this.#maybeClosed();
    if (this.#state !== 'connected') return;
    if (packet.type === 'data' || packet.type === 'fin') {
      const fin = packet.type === 'fin';
      const room = this.receiveWindow;
      const verdict = this.#recv.offer(packet.seq, packet.payload, fin, room, (bytes) => {
        this.#readBacklog += bytes.length;
        this.#sink.data(bytes);
      });
      if (verdict !== 'dropped') this.#ackNeeded = true;
      if (this.#recv.ended && verdict === 'accepted') {
        this.#sink.end();
        this.#maybeClosed();
      }
    }
  }

  /** Sends what the windows allow, and an ST_STATE if an ack is owed and nothing carried it. */
  flush(now: number): void {
    if (this.#state === 'closed') return;
    const window = this.#window;
    let sent = window.resend(this.#sendWindow(), (p) => this.#transmit(p, now));
    if (this.#state === 'connected') {
      while (this.#queue.bytes > 0 && window.size < MAX_IN_FLIGHT) {
        const allowed = this.#sendWindow() - window.flightBytes;
        const size = Math.min(this.#mss, this.#queue.bytes, allowed);
        if (size <= 0) break;
        // Nagle: a short packet only when nothing is in flight.
        if (size < this.#mss && (size < this.#queue.bytes || window.flightBytes > 0)) break;
        this.#sendNew('data', this.#queue.take(size), now);
        sent = true;
      }
      if (this.#finQueued && this.#queue.bytes === 0 && !this.#finSent && window.size < MAX_IN_FLIGHT) {
        this.#finSent = true;
        this.#sendNew('fin', Buffer.alloc(0), now);
        sent = true;
      }
      const windowShut = this.#queue.bytes > 0 && this.#advertised < Math.min(this.#mss, this.#queue.bytes);
      if (!windowShut) this.#zeroWindowSince = undefined;
      else {
        this.#zeroWindowSince ??= now;
        // Nothing in flight to bring a new window: probe when the timer fires.
        if (window.size === 0 && window.rtoDeadline === Number.POSITIVE_INFINITY)
          window.rtoDeadline = now + window.rto;
      }
      if (this.#ackNeeded && !sent) this.#emit('state', Buffer.alloc(0), window.nextSeq, now);
    }
    if (this.#writeBlocked && this.bufferedBytes < this.#sendBufferBytes) {
      this.#writeBlocked = false;
      this.#sink.drain();
    }
  }

  /** Timers: SYN and data retransmission, the dead-peer and zero-window deadlines, keep-alives. */
  tick(now: number): void {
    if (this.#state === 'closed') return;
    // However the backoff has grown: data in flight and the peer silent this long, it is gone.
    const window = this.#window;
    if (
      this.#state === 'connected' &&
      window.size > 0 &&
      now - Math.max(this.#lastReceived, window.busySince) >= this.#deadPeerTimeout
    ) {
      this.#close(new UtpError('timeout', 'uTP peer silent with data in flight'));
      return;
    }
    if (now >= this.#window.rtoDeadline) {
      if (this.#window.size === 0) {
        // Only a shut window to probe (its own deadline below bounds how long).
      } else if (this.#state === 'syn-sent') {
        if (this.#synRetriesLeft-- <= 0) {
          this.#close(new UtpError('connect-timeout', 'no answer to the uTP SYN'));
          return;
        }
      } else if (++this.#window.timeouts > this.#maxTimeouts) {
        this.#close(new UtpError('timeout', 'uTP data unacknowledged through every retransmission'));
        return;
      }
      this.#onTimeout(now);
    }
    if (this.#zeroWindowSince !== undefined && now - this.#zeroWindowSince >= this.#zeroWindowTimeout) {
      this.#close(new UtpError('timeout', 'the peer kept its uTP receive window shut'));
      return;
    }
    if (this.#state === 'connected' && now - this.#lastSent >= this.#keepAlive) this.#ackNeeded = true;
    this.flush(now);
  }

  #onTimeout(now: number): void {
    const window = this.#window;
    window.onTimeout();
    // A window of 0 is probed with one packet per timeout (its ack brings the real window).
    if (window.size === 0 && this.#queue.bytes > 0) this.#peerWindow = Math.max(this.#peerWindow, this.#mss);
    window.rtoDeadline =
      window.size > 0 || this.#queue.bytes > 0 ? now + window.rto : Number.POSITIVE_INFINITY;
  }

  #notePeer(packet: UtpPacket, now: number): void {
    this.#replyDelay = (Math.floor(now) - packet.timestamp) >>> 0;
    this.#peerWindow = this.#advertised = packet.windowSize;
  }

  /** The bytes we may have in flight: the congestion window or the peer's, the smaller. */
  #sendWindow(): number {
    return Math.min(this.#ledbat.cwnd, this.#peerWindow);
  }

  #sendNew(type: OutPacket['type'], payload: Buffer, now: number): void {
    this.#transmit(this.#window.add(type, payload, now), now);
  }

  #transmit(p: OutPacket, now: number): void {
    this.#window.transmitted(p, now);
    this.#emit(p.type, p.payload, p.seq, now);
  }

  #emit(type: UtpPacketType, payload: Buffer, seq: number, now: number): void {
    const syn = type === 'syn';
    const datagram = encodeUtpPacket({
      type,
      connectionId: syn ? this.recvId : this.sendId,
      timestamp: Math.floor(now) >>> 0,
      timestampDiff: this.#replyDelay,
      windowSize: this.receiveWindow,
      seq,
      ack: syn ? 0 : this.#recv.ackNr,
      sack: syn ? undefined : this.#recv.sack(),
      payload,
    });
    this.#ackNeeded = false;
    this.#lastSent = now;
    this.#sink.send(datagram);
  }

  #maybeClosed(): void {
    if (this.#window.finAcked && this.#recv.ended) this.#close(undefined);
  }

  #close(error: UtpError | undefined): void {
    if (this.#state === 'closed') return;
    // A clean close still owes the ack of the peer's FIN.
    if (error === undefined && this.#ackNeeded)
      this.#emit('state', Buffer.alloc(0), this.#window.nextSeq, this.#lastSent);
    this.#state = 'closed';
    this.#window.clear();
    this.#queue.clear();
    this.#sink.closed(error);
  }
}
