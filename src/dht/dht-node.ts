/**
 * One DHT node (BEP 5): the routing table, our outstanding queries, lookups, bootstrap, bucket
 * refresh and pings of questionable nodes, over message values. The socket glue decodes
 * datagrams and calls `receive`; the node calls the injected `send`. Incoming queries are
 * answered by a QueryResponder (responder.ts) given this node's context, or an injected answerer.
 * Pure: time only through the injected clock, randomness injected.
 */
import type { PeerAddress } from '../address.js';
import type { Clock } from '../clock.js';
import type { DhtError } from './errors.js';
import { announceTargets } from './family-results.js';
import type { Handler } from './lookup-driver.js';
import type { KrpcMessage, KrpcQuery, NodeContact, WantFamily } from './messages.js';
import { announceTo } from './node-announce.js';
import { ID_BYTES, type NodeId, type RandomBytes } from './node-id.js';
import { NodeLookups } from './node-lookups.js';
import type {
  DhtNodeContext,
  DhtNodeOptions,
  DhtStats,
  GetPeersResult,
  QueryAnswerer,
} from './node-options.js';
import { QueryResponder } from './responder.js';
import { type Family, NODE_FRESH_MS } from './routing-entry.js';
import { RoutingTable } from './routing-table.js';
import { ExternalIpVotes, isSecureNodeId, secureNodeId } from './secure-id.js';
import { TransactionTable } from './transactions.js';

export type {
  DhtNodeContext,
  DhtNodeOptions,
  DhtStats,
  GetPeersResult,
  QueryAnswerer,
} from './node-options.js';

export class DhtNode {
  readonly #clock: Clock;
  readonly #random: RandomBytes;
  readonly #send: DhtNodeOptions['send'];
  #id: NodeId;
  /** Whether we may replace our id by a BEP 42 secure one (by default only a random one). */
  readonly #secureId: boolean;
  readonly #k: number;
  readonly #refreshCheckMs: number;
  readonly #refreshOnBootstrap: boolean;
  /** The address families we can reach (BEP 32): one lookup per family, in that family's table. */
  readonly #families: readonly Family[];
  #table: RoutingTable;
  readonly #transactions: TransactionTable<Handler>;
  readonly #answerer: QueryAnswerer;
  readonly #lookups: NodeLookups;
  readonly #external = new ExternalIpVotes();
  #refreshTimer: unknown;
  #refreshing = 0;
  #closed = false;
  readonly #stats = {
    queriesSent: 0,
    queriesReceived: 0,
    responsesReceived: 0,
    errorsReceived: 0,
    timeouts: 0,
    unsolicited: 0,
    refused: 0,
    idChanges: 0,
  };

  constructor(options: DhtNodeOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#send = options.send;
    this.#id = options.id ? Uint8Array.from(options.id) : Uint8Array.from(options.random(ID_BYTES));
    this.#secureId = options.secureId ?? options.id === undefined;
    if (this.#id.length !== ID_BYTES) throw new RangeError('a DHT node id has 20 bytes');
    this.#k = options.k ?? 8;
    this.#refreshCheckMs = options.refreshCheckMs ?? 60_000;
    this.#refreshOnBootstrap = options.refreshOnBootstrap ?? true;
    this.#families = options.families?.length ? [...new Set(options.families)].sort() : [4, 6];
    this.#table = new RoutingTable({ ownId: this.#id, k: this.#k, now: this.#clock.now() });
    const first = options.random(2);
    this.#transactions = new TransactionTable<Handler>({
      clock: this.#clock,
      firstTid: (first[0]! << 8) | first[1]!,
      maxOutstanding: options.maxOutstanding ?? 256,
      timeoutMs: options.timeoutMs ?? 2000,
      minTimeoutMs: options.minTimeoutMs ?? 500,
      slowMs: options.slowMs ?? 1000,
      onTimeout: (handler, to) => {
        this.#stats.timeouts++;
        this.#table.failed(to.host, to.port, this.#clock.now());
        handler.timeout?.();
      },
      onSlow: (handler) => handler.slow?.(),
    });
    const context: DhtNodeContext = {
      ownId: () => this.#id,
      closestNodes: (target, family, count) =>
        this.#table.closest(target, count, family, this.#clock.now(), true),
      isVerified: (host, port) => this.#table.hasResponded(host, port),
    };
    this.#answerer = options.answerer
      ? options.answerer(context)
      : new QueryResponder({ clock: this.#clock, random: this.#random, context });
    this.#lookups = new NodeLookups({
      k: this.#k,
      alpha: options.alpha ?? 3,
      maxCandidates: options.maxCandidates ?? 100,
      maxAttempts: options.maxAttempts ?? 4,
      families: this.#families,
      ownId: () => this.#id,
      table: () => this.#table,
      now: () => this.#clock.now(),
      query: (contact, body, handler) => this.#query(contact, body, handler, true),
      ping: (to, settled) => {
        const sent = this.#query(
          to,
          { method: 'ping' },
          { response: settled, error: settled, timeout: settled },
        );
        if (!sent) settled();
      },
      closed: () => this.#closed,
    });
    this.#armRefresh();
  }

  /** Our node id. */
  get id(): NodeId {
    return this.#id;
  }

  /** The routing table (read it; the node updates it). */
  get table(): RoutingTable {
    return this.#table;
  }

  /**
   * A decoded message from `from`. `datagramBytes` is the datagram's size (the answerer's
   * amplification bound); when unknown, 0.
   */
  receive(message: KrpcMessage, from: { host: string; port: number }, datagramBytes = 0): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    if (message.kind === 'query') {
      this.#stats.queriesReceived++;
      if (!message.readOnly) this.#heard({ id: message.id, host: from.host, port: from.port }, false, now);
      const reply = this.#answerer.answer(message, from, datagramBytes);
      if (reply) this.#send(reply, from);
      return;
    }
    const match = this.#transactions.resolve(message.tid, from);
    if (!match) {
      this.#stats.unsolicited++;
      return;
    }
    if (message.kind === 'error') {
      this.#stats.errorsReceived++;
      match.value.error?.(message);
      return;
    }
    this.#stats.responsesReceived++;
    if (message.ip) {
      this.#external.vote(message.ip.host, from.host);
      this.#adoptSecureId();
    }
    this.#heard({ id: message.id, host: from.host, port: from.port }, true, now);
    match.value.response?.(message);
  }

  /**
   * A datagram from `from` that `decodeKrpc` refused with `error`: a query whose tid could be read
   * gets error 203 (within the answerer's rate limit and amplification bound: pass the datagram's
   * size); anything else is dropped.
   */
  receiveMalformed(error: DhtError, from: { host: string; port: number }, datagramBytes = 0): void {
    if (this.#closed) return;
    const reply = this.#answerer.answerMalformed?.(error, from, datagramBytes);
    if (reply) this.#send(reply, from);
  }

  /**
   * Joins the network: find_node for our own id via `contacts`, then a lookup of our own id
   * from what they returned, then (refreshOnBootstrap) one lookup per bucket range.
   */
  async bootstrap(contacts: { host: string; port: number }[]): Promise<void> {
    const learned: NodeContact[] = [];
    await Promise.all(
      contacts.slice(0, 32).map(
        (to) =>
          new Promise<void>((resolve) => {
            // BEP 32: with both families, each contact is asked for nodes of both (`want`), so
            // joining through IPv4 nodes also fills the IPv6 table, and the other way round.
            const sent = this.#query(
              to,
              { method: 'find_node', target: this.#id, ...this.#want() },
              {
                response: (reply) => {
                  learned.push(...(reply.nodes ?? []), ...(reply.nodes6 ?? []));
                  resolve();
                },
                error: () => resolve(),
                timeout: () => resolve(),
              },
            );
            if (!sent) resolve();
          }),
      ),
    );
    if (this.#closed) return;
    // Joining only fills the table: a node that times out is not asked again (dead nodes are common,
    // e.g. from a saved table; 4 attempts held bootstrap 2 s per dead node: docs/dht-interop.md).
    await this.#lookups.run(this.#id, 'find_node', learned.slice(0, 256), { maxAttempts: 1 });
    if (!this.#refreshOnBootstrap || this.#closed) return;
    for (const family of this.#families) {
      const buckets = this.#table.bucketCount(family);
      const targets = this.#table.staleTargets(family, this.#clock.now() + NODE_FRESH_MS, this.#random);
      await Promise.all(
        targets
          .slice(0, buckets - 1)
          .map((target) =>
            this.#lookups.run(target, 'find_node', [], { maxAttempts: 1, families: [family] }),
          ),
      );
    }
  }

  /**
   * Pings a node we heard of outside the DHT (a peer's BEP 5 `port` message); its reply adds it
   * to the table like any responder. Nothing is sent when the node is closed or too many queries
   * are outstanding.
   */
  ping(to: { host: string; port: number }): void {
    this.#query(to, { method: 'ping' }, {});
  }

  /** Iterative get_peers lookup for `infoHash` (one per address family: `families`). */
  getPeers(
    infoHash: NodeId,
    options: { signal?: AbortSignal; onPeers?(peers: PeerAddress[]): void } = {},
  ): Promise<GetPeersResult> {
    return this.#lookups.run(infoHash, 'get_peers', [], options);
  }

  /**
   * getPeers, then announce_peer to the closest k nodes that gave a token, in each address family
   * (the result's `nodes` lists both families' closest). `onPeers` hears the
   * peers as each response brings them (the result still lists them all).
   */
  async announce(
    infoHash: NodeId,
    port: number,
    options: { impliedPort?: boolean; signal?: AbortSignal; onPeers?(peers: PeerAddress[]): void } = {},
  ): Promise<GetPeersResult> {
    const result: GetPeersResult = await this.getPeers(infoHash, {
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onPeers ? { onPeers: options.onPeers } : {}),
    });
    // In each family, the closest k that gave a token (BEP 32: announced in both).
    const targets = announceTargets(result.nodes, this.#k);
    const body = {
      method: 'announce_peer' as const,
      infoHash,
      port,
      impliedPort: options.impliedPort ?? false,
    };
    result.announced = await announceTo(
      targets,
      body,
      (node, query, handler) => this.#query(node, query, handler),
      () => this.#closed,
    );
    return result;
  }

  /**
   * Our external IP as the nodes that answered our queries see it (BEP 42 `ip`), once three agree
   * (secure-id.ts ExternalIpVotes). Not yet used to derive a secure node id.
   */
  externalIp(): string | undefined {
    return this.#external.leader();
  }

  /** Approximate bytes held: routing table, outstanding queries, the answerer's stores. */
  memoryBytes(): number {
    return this.#table.memoryBytes() + this.#transactions.size * 128 + (this.#answerer.memoryBytes?.() ?? 0);
  }

  /** The routing table's nodes (both families), for saving. */
  nodes(): NodeContact[] {
    return this.#table.entries().map(({ id, host, port }) => ({ id, host, port }));
  }

  stats(): DhtStats {
    const counts = this.#table.counts(this.#clock.now());
    return {
      nodes: this.#table.size,
      ...counts,
      ...this.#stats,
      lookups: this.#lookups.started,
      activeLookups: this.#lookups.running,
      outstanding: this.#transactions.size,
      storedPeers: this.#answerer.storedPeerCount?.() ?? 0,
    };
  }

  /**
   * Stops the refresh timer, ends running lookups (they resolve with what they found), and
   * forgets outstanding queries (bootstrap and announce resolve). A closed node sends nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#refreshTimer);
    this.#lookups.finishAll();
    // Whatever waits on a query (bootstrap, announce) hears a timeout, so its promise settles.
    for (const handler of this.#transactions.clear()) handler.timeout?.();
  }

  /**
   * BEP 42: once our external IP is known (and not a local one), a random id that is not valid
   * for it is replaced by a secure one; the routing table is rebuilt around the new id, keeping
   * every entry's liveness. Lookups already running finish with the old id.
   */
  #adoptSecureId(): void {
    if (!this.#secureId) return;
    const ip = this.#external.leader();
    // isSecureNodeId holds for any id at a local (exempt) address.
    if (ip === undefined || isSecureNodeId(this.#id, ip)) return;
    const id = secureNodeId(ip, this.#random);
    if (!id) return;
    const now = this.#clock.now();
    const table = new RoutingTable({ ownId: id, k: this.#k, now });
    for (const entry of this.#table.entries()) table.adopt(entry, now);
    this.#id = id;
    this.#table = table;
    this.#stats.idChanges++;
  }

  /** BEP 32 `want` for the nodes of every family we have, when we have both (else none: the default). */
  #want(): { want?: WantFamily[] } {
    return this.#families.length > 1
      ? { want: this.#families.map((family) => `n${family}` as WantFamily) }
      : {};
  }

  #heard(contact: NodeContact, responded: boolean, now: number): void {
    const { outcome, ping } = this.#table.heard(contact, responded, now);
    // A querier new to the table is pinged once, so it is verified (good) and can be handed out.
    if (outcome === 'added' && !responded) this.#query(contact, { method: 'ping' }, {});
    if (ping) this.#query(ping, { method: 'ping' }, {}); // a timeout counts as its failure
  }

  /** Sends a query; false (nothing sent) when too many are outstanding or the node is closed. */
  #query(
    to: { host: string; port: number },
    body:
      | { method: 'ping' }
      | { method: 'find_node'; target: NodeId; want?: WantFamily[] }
      | { method: 'get_peers'; infoHash: NodeId }
      | { method: 'announce_peer'; infoHash: NodeId; port: number; impliedPort: boolean; token: Uint8Array },
    handler: Handler,
    slow = false,
  ): boolean {
    if (this.#closed) return false;
    const tid = this.#transactions.open(to, handler, { slow });
    if (!tid) {
      this.#stats.refused++;
      return false;
    }
    this.#stats.queriesSent++;
    this.#table.queried(to.host, to.port, this.#clock.now());
    const query = { kind: 'query', tid, id: this.#id, readOnly: false, ...body } as KrpcQuery;
    this.#send(query, { host: to.host, port: to.port });
    return true;
  }

  #armRefresh(): void {
    this.#refreshTimer = this.#clock.setTimeout(() => {
      if (this.#closed) return;
      this.#refresh();
      this.#armRefresh();
    }, this.#refreshCheckMs);
  }

  /** Looks up a random id in each stale bucket (a few at a time). */
  #refresh(): void {
    const now = this.#clock.now();
    for (const family of this.#families) {
      for (const target of this.#table.staleTargets(family, now, this.#random)) {
        if (this.#refreshing >= 2) return;
        this.#refreshing++;
        this.#table.refreshed(target, family, now); // counts as active now, so it is not picked again meanwhile
        void this.#lookups
          .run(target, 'find_node', [], { families: [family] })
          .finally(() => this.#refreshing--);
      }
    }
  }
}
