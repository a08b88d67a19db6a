/**
 * The receiving half of a uTP connection: in-order delivery, a reorder buffer
 * bounded in packets and bytes, the end-of-stream sequence number of a FIN,
 * and the selective ACK bitmask describing what sits past a hole.
 */
import { MAX_SACK_BYTES, seqDiff } from './packet.js';

export type ReceiveVerdict =
  /** New bytes were accepted (delivered or buffered): acknowledge. */
  | 'accepted'
  /** Already had it (a retransmission): acknowledge again, nothing new. */
  | 'duplicate'
  /** Outside what we accept (too far ahead, past the FIN, no room): dropped unacknowledged. */
  | 'dropped';

export class ReceiveBuffer {
  /** Last sequence number received in order. */
  #ackNr: number;
  readonly #reorder = new Map<number, Uint8Array>();
  #reorderBytes = 0;
  /** The FIN's sequence number once seen. */
  #eofSeq: number | undefined;
  #ended = false;
  readonly #maxAhead: number;

  /** `maxAheadPackets` bounds how far past the hole a packet may sit (and the SACK span). */
  constructor(ackNr: number, maxAheadPackets: number) {
    this.#ackNr = ackNr & 0xffff;
    this.#maxAhead = maxAheadPackets;
  }

  get ackNr(): number {
    return this.#ackNr;
  }

  /** Bytes held out of order. */
  get reorderBytes(): number {
    return this.#reorderBytes;
  }

  /** True once every byte up to the peer's FIN was delivered. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Reset the in-order point (the initiator learns it from the SYN's answer). */
  setAckNr(ackNr: number): void {
    this.#ackNr = ackNr & 0xffff;
  }

  /**
   * Offers a DATA (or FIN, `fin` true, payload empty) packet. In-order bytes go to
   * `deliver` at once, followed by any buffered packets that now follow on;
   * `room` is how many more bytes may be held (delivered-unread plus reordered).
   */
  offer(seq: number, payload: Uint8Array, fin: boolean, room: number, deliver: (b: Uint8Array) => void) {
    const ahead = seqDiff(seq, this.#ackNr);
    if (ahead <= 0) return 'duplicate';
    if (ahead > this.#maxAhead || this.#ended) return 'dropped';
    if (this.#eofSeq !== undefined && seqDiff(seq, this.#eofSeq) > 0) return 'dropped';
    if (fin) {
      if (this.#eofSeq === undefined) this.#eofSeq = seq;
    } else if (this.#reorder.has(seq)) {
      return 'duplicate';
    } else if (payload.length > room) {
      return 'dropped';
    }
    if (ahead > 1) {
      if (!fin) {
        this.#reorder.set(seq, payload);
        this.#reorderBytes += payload.length;
      }
      return 'accepted';
    }
    if (payload.length > 0) deliver(payload);
    this.#ackNr = seq;
    this.#pull(deliver);
    return 'accepted';
  }

  #pull(deliver: (b: Uint8Array) => void): void {
    for (;;) {
      if (this.#eofSeq !== undefined && this.#ackNr === this.#eofSeq) {
        this.#ended = true;
        // Anything buffered past a FIN is garbage.
        this.#reorder.clear();
        this.#reorderBytes = 0;
        return;
      }
      const next = (this.#ackNr + 1) & 0xffff;
      if (this.#eofSeq === next) {
        this.#ackNr = next;
        continue;
      }
      const payload = this.#reorder.get(next);
      if (payload === undefined) return;
      this.#reorder.delete(next);
      this.#reorderBytes -= payload.length;
      if (payload.length > 0) deliver(payload);
      this.#ackNr = next;
    }
  }

  /**
   * The selective ACK bitmask (bit i = packet ackNr + 2 + i received), a multiple
   * of 4 bytes and at most MAX_SACK_BYTES; undefined when nothing is out of order.
   */
  sack(): Uint8Array | undefined {
    if (this.#reorder.size === 0) return undefined;
    let span = 0;
    for (const seq of this.#reorder.keys()) span = Math.max(span, seqDiff(seq, this.#ackNr) - 1);
    const bytes = Math.min(MAX_SACK_BYTES, (Math.ceil(span / 8) + 3) & ~3);
    const mask = new Uint8Array(bytes);
    for (const seq of this.#reorder.keys()) {
      const bit = seqDiff(seq, this.#ackNr) - 2;
      if (bit >= 0 && bit < bytes * 8) mask[bit >> 3]! |= 1 << (bit & 7);
    }
    return mask;
  }
}
