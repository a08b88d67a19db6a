import {
  UtpConnection,
  type UtpConnectionOptions,
  type UtpConnectionSink,
} from '../../src/net/utp/connection.js';
import { decodeUtpPacket, type UtpPacket } from '../../src/net/utp/packet.js';
import type { UtpError } from '../../src/net/utp/utp-error.js';

/** A seeded PRNG (mulberry32): the same seed, the same losses. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LinkFaults {
  loss?: number;
  duplicate?: number;
  /** Chance a packet takes an extra random delay (so it arrives after later ones). */
  reorder?: number;
  /** One-way delay, µs. */
  delayMicros?: number;
}

/** Records what a connection hands its owner. */
export class Endpoint implements UtpConnectionSink {
  connection: UtpConnection | undefined;
  readonly received: Buffer[] = [];
  receivedBytes = 0;
  sent = 0;
  ended = false;
  isConnected = false;
  closedWith: UtpError | undefined | 'open' = 'open';
  drains = 0;
  onDrain: (() => void) | undefined;
  constructor(
    readonly network: UtpNetwork,
    readonly side: 'a' | 'b',
  ) {}
  send(datagram: Buffer): void {
    this.sent++;
    this.network.transmit(this.side, datagram);
  }
  data(bytes: Uint8Array): void {
    this.received.push(Buffer.from(bytes));
    this.receivedBytes += bytes.length;
  }
  connected(): void {
    this.isConnected = true;
  }
  end(): void {
    this.ended = true;
  }
  drain(): void {
    this.drains++;
    this.onDrain?.();
  }
  closed(error?: UtpError): void {
    this.closedWith = error;
  }
}

/**
 * Two uTP connections joined by a simulated link with a virtual clock in µs:
 * seeded loss, duplication and reordering. Side a connects, side b accepts the
 * first SYN. `intercept` may rewrite or drop what a side receives (hostile tests).
 */
export class UtpNetwork {
  now = 1_000_000_000;
  readonly a = new Endpoint(this, 'a');
  readonly b = new Endpoint(this, 'b');
  readonly #queue: { at: number; order: number; to: 'a' | 'b'; datagram: Buffer }[] = [];
  #order = 0;
  readonly #random: () => number;
  delivered = 0;
  intercept: ((to: 'a' | 'b', packet: UtpPacket, datagram: Buffer) => Buffer | undefined) | undefined;

  constructor(
    readonly faults: LinkFaults = {},
    seed = 1,
    readonly options: UtpConnectionOptions = {},
  ) {
    this.#random = seededRandom(seed);
  }

  connect(seq = 500): void {
    this.a.connection = UtpConnection.connect(this.a, 1000, seq, this.now, this.options);
  }

  transmit(from: 'a' | 'b', datagram: Buffer): void {
    const to = from === 'a' ? 'b' : 'a';
    const f = this.faults;
    if (this.#random() < (f.loss ?? 0)) return;
    const copies = this.#random() < (f.duplicate ?? 0) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let delay = f.delayMicros ?? 1000;
      if (this.#random() < (f.reorder ?? 0)) delay += Math.floor(this.#random() * 20_000);
      this.#queue.push({ at: this.now + delay, order: this.#order++, to, datagram });
    }
  }

  /** Delivers everything due by now + `micros`, ticking both sides every `tickMicros`. */
  run(micros: number, tickMicros = 10_000): void {
    const end = this.now + micros;
    let nextTick = this.now + tickMicros;
    while (this.now < end) {
      this.#queue.sort((x, y) => x.at - y.at || x.order - y.order);
      const next = this.#queue[0];
      const stop = Math.min(end, nextTick);
      if (next !== undefined && next.at <= stop) {
        this.#queue.shift();
        this.now = Math.max(this.now, next.at);
        this.#deliver(next.to, next.datagram);
        continue;
      }
      this.now = stop;
      if (this.now >= nextTick) {
        this.a.connection?.tick(this.now);
        this.b.connection?.tick(this.now);
        nextTick += tickMicros;
      }
    }
  }

  /** Runs until `done` holds or `limitMicros` of virtual time passed; returns whether it held. */
  runUntil(done: () => boolean, limitMicros: number, step = 50_000): boolean {
    const end = this.now + limitMicros;
    while (!done()) {
      if (this.now >= end) return false;
      this.run(step);
    }
    return true;
  }

  #deliver(to: 'a' | 'b', datagram: Buffer): void {
    const decoded = decodeUtpPacket(datagram);
    if (!decoded.ok) return;
    let packet = decoded.packet;
    if (this.intercept !== undefined) {
      const replaced = this.intercept(to, packet, datagram);
      if (replaced === undefined) return;
      const again = decodeUtpPacket(replaced);
      if (!again.ok) return;
      packet = again.packet;
    }
    this.delivered++;
    const endpoint = to === 'a' ? this.a : this.b;
    if (endpoint.connection === undefined) {
      if (to === 'b' && packet.type === 'syn')
        endpoint.connection = UtpConnection.accept(endpoint, packet, 40_000, this.now, this.options);
      return;
    }
    endpoint.connection.receive(packet, this.now);
    endpoint.connection.flush(this.now);
  }
}
