/**
 * The send side of one uTP connection (BEP 29), pure: the packets in flight by sequence number,
 * the bytes in flight, acks and selective acks, fast resend, the round-trip estimate and the
 * retransmission timeout. Times are microseconds. The connection (`connection.ts`) decides what
 * to send and puts it on the wire; this keeps the books.
 */
import type { Ledbat } from './ledbat.js';
import { seqDiff, type UtpPacket } from './packet.js';

export interface OutPacket {
  seq: number;
  type: 'data' | 'fin' | 'syn';
  payload: Buffer;
  sentAt: number;
  transmissions: number;
  needResend: boolean;
  sacked: boolean;
  fastResent: boolean;
}

/** Packets in flight at most: far below half the 16-bit sequence space. */
export const MAX_IN_FLIGHT = 1024;
const MAX_TIMEOUT_US = 60_000_000;

export class SendWindow {
  readonly #ledbat: Ledbat;
  readonly #minTimeout: number;
  readonly #out = new Map<number, OutPacket>();
  /** Next sequence number to send. */
  #seqNr: number;
  /** Oldest unacknowledged sequence number. */
  #oldest: number;
  #flightBytes = 0;
  #rtt = 0;
  #rttVar = 0;
  #rto: number;
  #dupAcks = 0;
  #lossSeq: number;
  #finAcked = false;
  /** When the retransmission timer fires (infinity: not armed). */
  rtoDeadline = Number.POSITIVE_INFINITY;
  /** Consecutive timeouts without an ack moving forward. */
  timeouts = 0;
  /** When the window last went from empty to holding a packet (µs); meaningful while `size > 0`. */
  busySince = 0;

  /** @param seq our first sequence number; timeouts in microseconds. */
  constructor(seq: number, ledbat: Ledbat, timeouts: { initialUs: number; minUs: number }) {
    this.#ledbat = ledbat;
    this.#minTimeout = timeouts.minUs;
    this.#rto = Math.max(timeouts.initialUs, timeouts.minUs);
    this.#seqNr = seq & 0xffff;
    this.#oldest = this.#seqNr;
    this.#lossSeq = (this.#seqNr - 1) & 0xffff;
  }

  /** The sequence number the next new packet gets. */
  get nextSeq(): number {
    return this.#seqNr;
  }

  /** The last sequence number sent. */
  get lastSent(): number {
    return (this.#seqNr - 1) & 0xffff;
  }

  /** Packets sent and not yet acknowledged. */
  get size(): number {
    return this.#out.size;
  }

  /** Payload bytes on the wire now (not acked, not waiting for a resend). */
  get flightBytes(): number {
    return this.#flightBytes;
  }

  /** Current retransmission timeout, µs. */
  get rto(): number {
    return this.#rto;
  }

  /** Our FIN was acknowledged. */
  get finAcked(): boolean {
    return this.#finAcked;
  }

  /**
   * Whether an incoming ack number is believable: not past what we sent, and not more than
   * {@link MAX_IN_FLIGHT} packets older than the oldest in flight. A packet failing it is ignored.
   */
  ackIsPlausible(ack: number): boolean {
    if (seqDiff(ack, this.lastSent) > 0) return false;
    return seqDiff(ack, (this.#oldest - 1) & 0xffff) >= -MAX_IN_FLIGHT;
  }

  /** A new packet with the next sequence number, counted in flight; the caller transmits it. */
  add(type: OutPacket['type'], payload: Buffer, now: number): OutPacket {
    const p: OutPacket = {
      seq: this.#seqNr,
      type,
      payload,
      sentAt: now,
      transmissions: 0,
      needResend: false,
      sacked: false,
      fastResent: false,
    };
    if (this.#out.size === 0) this.busySince = now;
    this.#out.set(p.seq, p);
    this.#seqNr = (this.#seqNr + 1) & 0xffff;
    this.#flightBytes += payload.length;
    return p;
  }

  /** A packet goes on the wire (first time or again): arms the timer if it was idle. */
  transmitted(p: OutPacket, now: number): void {
    p.transmissions++;
    p.sentAt = now;
    if (this.rtoDeadline === Number.POSITIVE_INFINITY) this.rtoDeadline = now + this.#rto;
  }

  /**
   * Resends the packets waiting for it, oldest first, while they fit in `window` bytes of flight
   * (one always goes when nothing is in flight). Returns whether any was sent.
   */
  resend(window: number, transmit: (p: OutPacket) => void): boolean {
    let sent = false;
    for (const p of this.#out.values()) {
      if (!p.needResend) continue;
      if (this.#flightBytes > 0 && this.#flightBytes + p.payload.length > window) break;
      p.needResend = false;
      this.#flightBytes += p.payload.length;
      transmit(p);
      sent = true;
    }
    return sent;
  }

  /** Takes in a packet's ack and selective ack (already found plausible). */
  processAcks(packet: UtpPacket, now: number): void {
    const flightBefore = this.#flightBytes;
    let acked = 0;
    let newest: OutPacket | undefined;
    const ackedUpTo = seqDiff(packet.ack, this.#oldest);
    for (let i = 0; i <= ackedUpTo; i++) {
      const p = this.#out.get(this.#oldest);
      if (p !== undefined) {
        this.#out.delete(this.#oldest);
        if (!p.sacked) acked += this.#retire(p);
        if (p.transmissions === 1) newest = p;
        if (p.type === 'fin') this.#finAcked = true;
      }
      this.#oldest = (this.#oldest + 1) & 0xffff;
    }
    if (packet.sack !== undefined) acked += this.#processSack(packet.ack, packet.sack, now);
    if (ackedUpTo >= 0) {
      this.#dupAcks = 0;
      this.timeouts = 0;
      this.rtoDeadline = this.#out.size > 0 ? now + this.#rto : Number.POSITIVE_INFINITY;
    } else if (
      packet.type === 'state' &&
      this.#out.size > 0 &&
      packet.ack === ((this.#oldest - 1) & 0xffff)
    ) {
      if (++this.#dupAcks === 3) this.#fastResend(this.#out.get(this.#oldest));
    }
    if (newest !== undefined) this.#sampleRtt(now - newest.sentAt);
    if (acked > 0) this.#ledbat.onAck(acked, packet.timestampDiff, flightBefore, now);
  }

  /** The timer fired: doubles the timeout, cuts the window, marks every unacked packet for resend. */
  onTimeout(): void {
    this.#rto = Math.min(this.#rto * 2, MAX_TIMEOUT_US);
    this.#ledbat.onTimeout();
    for (const p of this.#out.values()) {
      if (p.sacked || p.needResend) continue;
      p.needResend = true;
      this.#flightBytes -= p.payload.length;
    }
  }

  /** Forgets everything in flight (the connection closed). */
  clear(): void {
    this.#out.clear();
    this.#flightBytes = 0;
    this.rtoDeadline = Number.POSITIVE_INFINITY;
  }

  /** Marks selectively acked packets; a packet with 3 or more acked after it is resent. */
  #processSack(ack: number, mask: Uint8Array, now: number): number {
    let acked = 0;
    let after = 0;
    const bits = Math.min(mask.length * 8, MAX_IN_FLIGHT);
    for (let bit = bits - 1; bit >= -1; bit--) {
      const seq = (ack + 2 + bit) & 0xffff;
      if (seqDiff(seq, this.#seqNr) >= 0) continue;
      const p = this.#out.get(seq);
      const isAcked = bit >= 0 && (mask[bit >> 3]! & (1 << (bit & 7))) !== 0;
      if (isAcked) {
        after++;
        if (p !== undefined && !p.sacked) {
          acked += this.#retire(p);
          p.sacked = true;
          if (p.transmissions === 1) this.#sampleRtt(now - p.sentAt);
        }
      } else if (p !== undefined && !p.sacked && after >= 3) {
        this.#fastResend(p);
      }
    }
    return acked;
  }

  #fastResend(p: OutPacket | undefined): void {
    if (p === undefined || p.fastResent || p.needResend) return;
    p.fastResent = true;
    p.needResend = true;
    this.#flightBytes -= p.payload.length;
    // One window cut per window of data lost.
    if (seqDiff(p.seq, this.#lossSeq) > 0) {
      this.#lossSeq = (this.#seqNr - 1) & 0xffff;
      this.#ledbat.onLoss();
    }
  }

  /** Removes a packet's bytes from the flight; returns them as newly acked. */
  #retire(p: OutPacket): number {
    if (!p.needResend) this.#flightBytes -= p.payload.length;
    p.needResend = false;
    return p.payload.length;
  }

  #sampleRtt(sample: number): void {
    if (this.#rtt === 0) {
      this.#rtt = sample;
      this.#rttVar = sample / 2;
    } else {
      this.#rttVar += (Math.abs(this.#rtt - sample) - this.#rttVar) / 4;
      this.#rtt += (sample - this.#rtt) / 8;
    }
    this.#rto = Math.max(this.#rtt + 4 * this.#rttVar, this.#minTimeout);
  }
}
