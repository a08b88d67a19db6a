/**
 * An in-process DHT network for tests and the benchmark: DhtNodes on fake addresses
 * (10.x.y.z:6881), messages delivered as values after a per-node latency, with optional loss and
 * churn, on a simulated clock (an event queue; nothing waits for real time). Seeded: the same
 * seed gives the same run. Each node answers with its own QueryResponder (tokens, peer store,
 * rate limit, amplification bound) unless `answerer` says otherwise.
 */
import type { Clock } from '../../src/clock.js';
import { DhtNode, type DhtNodeOptions } from '../../src/dht/dht-node.js';
import { decodeKrpc, encodeKrpc } from '../../src/dht/krpc.js';
import type { KrpcMessage } from '../../src/dht/messages.js';
import { compareDistance, type NodeId, type RandomBytes } from '../../src/dht/node-id.js';

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function seededFloat(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes from a float source. */
export function bytesFrom(float: () => number): RandomBytes {
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(float() * 256);
    return out;
  };
}

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** A clock over a binary heap of timers: `step` fires everything due at the next instant. */
export class EventClock implements Clock {
  #time = 0;
  #seq = 0;
  readonly #heap: Timer[] = [];

  readonly now = (): number => this.#time;

  setTimeout(callback: () => void, ms: number): unknown {
    const timer: Timer = { at: this.#time + Math.max(0, ms), seq: this.#seq++, callback, cancelled: false };
    this.#push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    if (handle && typeof handle === 'object') (handle as Timer).cancelled = true;
  }

  /** Fires the timers of the next instant that has any; false when none is left. */
  step(): boolean {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    const first = this.#heap[0];
    if (!first) return false;
    this.#time = Math.max(this.#time, first.at);
    while (this.#heap.length > 0 && this.#heap[0]!.at <= this.#time) {
      const timer = this.#pop()!;
      if (!timer.cancelled) timer.callback();
    }
    return true;
  }

  #less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(timer: Timer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Timer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && this.#less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

export interface SimOptions {
  seed: number;
  /** Share of datagrams dropped. @default 0 */
  loss?: number;
  /** One-way latency of a node's link, drawn per node in [min, max] ms; a datagram takes the sum of both ends. @default [5, 50] */
  latencyMs?: [number, number];
  /** Options for every node (clock, random, id, send and answerer are the sim's). */
  node?: Partial<DhtNodeOptions>;
  /** Send every message through the KRPC codec (encode at the sender, decode at the receiver). @default false */
  codec?: boolean;
  /** Builds each node's answerer. @default the node's own QueryResponder */
  answerer?: DhtNodeOptions['answerer'];
}

export interface SimNode {
  host: string;
  port: number;
  node: DhtNode;
  online: boolean;
  latency: number;
}

export class DhtSim {
  readonly clock = new EventClock();
  readonly float: () => number;
  readonly random: RandomBytes;
  /** Share of datagrams dropped (may be changed between phases). */
  loss: number;
  readonly #latency: [number, number];
  readonly #codec: boolean;
  readonly #nodeOptions: Partial<DhtNodeOptions>;
  readonly #answerer: DhtNodeOptions['answerer'];
  readonly #byHost = new Map<string, SimNode>();
  readonly all: SimNode[] = [];
  /** Datagrams sent, and dropped by loss or because the receiver was offline. */
  sent = 0;
  dropped = 0;

  constructor(options: SimOptions) {
    this.float = seededFloat(options.seed);
    this.random = bytesFrom(this.float);
    this.loss = options.loss ?? 0;
    this.#latency = options.latencyMs ?? [5, 50];
    this.#codec = options.codec ?? false;
    this.#nodeOptions = options.node ?? {};
    this.#answerer = options.answerer;
  }

  /** Online nodes. */
  online(): SimNode[] {
    return this.all.filter((sim) => sim.online);
  }

  /** A uniformly chosen online node. */
  pick(): SimNode {
    const online = this.online();
    return online[Math.floor(this.float() * online.length)]!;
  }

  /** Adds a node (not yet bootstrapped). */
  addNode(): SimNode {
    const index = this.all.length + 1;
    const host = `10.${(index >> 16) & 0xff}.${(index >> 8) & 0xff}.${index & 0xff}`;
    const [min, max] = this.#latency;
    const sim: SimNode = {
      host,
      port: 6881,
      online: true,
      latency: Math.round(min + this.float() * (max - min)),
      node: undefined as unknown as DhtNode,
    };
    sim.node = new DhtNode({
      ...this.#nodeOptions,
      clock: this.clock,
      random: this.random,
      send: (message, to) => this.#deliver(sim, message, to),
      ...(this.#answerer ? { answerer: this.#answerer } : {}),
    });
    this.all.push(sim);
    this.#byHost.set(host, sim);
    return sim;
  }

  /** Takes a node off the network (its datagrams and those to it are lost); it stops its timers. */
  kill(sim: SimNode): void {
    sim.online = false;
    sim.node.close();
  }

  /**
   * Grows the network by `count` nodes, each bootstrapping from `via` random nodes already there,
   * starting `spacingMs` apart; resolves when all bootstraps are done.
   */
  async grow(count: number, options: { via?: number; spacingMs?: number } = {}): Promise<void> {
    const via = options.via ?? 3;
    const spacing = options.spacingMs ?? 5;
    const joins: Promise<void>[] = [];
    let started = 0;
    let allStarted!: () => void;
    const startedAll = new Promise<void>((resolve) => {
      allStarted = resolve;
    });
    const start = (): void => {
      const existing = this.online();
      const sim = this.addNode();
      const contacts = Array.from({ length: Math.min(via, existing.length) }, () => {
        const other = existing[Math.floor(this.float() * existing.length)]!;
        return { host: other.host, port: other.port };
      });
      if (contacts.length > 0) joins.push(sim.node.bootstrap(contacts));
      if (++started < count) this.clock.setTimeout(start, spacing);
      else allStarted();
    };
    start();
    await this.run(startedAll);
    await this.run(Promise.all(joins));
  }

  /**
   * Runs the simulation until `promise` settles (or, without one, for `ms` of simulated time),
   * letting promise continuations run between instants. Throws if the event queue empties first.
   */
  async run<T>(promise: Promise<T> | undefined, ms = Number.POSITIVE_INFINITY): Promise<T | undefined> {
    let settled = false;
    let value: T | undefined;
    let failure: unknown;
    let failed = false;
    promise?.then(
      (result) => {
        settled = true;
        value = result;
      },
      (error: unknown) => {
        settled = true;
        failed = true;
        failure = error;
      },
    );
    const end = this.clock.now() + ms;
    await new Promise((resolve) => setImmediate(resolve));
    while (!settled && this.clock.now() < end) {
      if (!this.clock.step()) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (failed) throw failure;
    if (promise && !settled) throw new Error('DhtSim: the event queue emptied before the promise settled');
    return value;
  }

  /** The `count` online nodes closest to `target`, excluding `except`. */
  trueClosest(target: NodeId, count: number, except?: SimNode): SimNode[] {
    return this.online()
      .filter((sim) => sim !== except)
      .sort((a, b) => compareDistance(a.node.id, b.node.id, target))
      .slice(0, count);
  }

  #deliver(from: SimNode, message: KrpcMessage, to: { host: string; port: number }): void {
    this.sent++;
    if (!from.online) return;
    const target = this.#byHost.get(to.host);
    if (!target || target.port !== to.port || this.float() < this.loss) {
      this.dropped++;
      return;
    }
    // The size of a query matters to the receiver (its amplification bound): encode queries always.
    const datagram = this.#codec || message.kind === 'query' ? encodeKrpc(message) : undefined;
    this.clock.setTimeout(() => {
      if (!target.online) {
        this.dropped++;
        return;
      }
      const source = { host: from.host, port: from.port };
      if (this.#codec && datagram) target.node.receive(decodeKrpc(datagram), source, datagram.length);
      else target.node.receive(message, source, datagram?.length ?? 0);
    }, from.latency + target.latency);
  }
}
