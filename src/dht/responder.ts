/**
 * Answers incoming KRPC queries (BEP 5, BEP 32 `want`/`nodes6`, BEP 42 `ip`): ping, find_node,
 * get_peers (with a write token and stored peers or the closest nodes) and announce_peer (token
 * checked against the querier's IP, peer stored). Pure: the routing table is reached through
 * {@link ResponderContext}, time through the injected clock.
 *
 * Hostile input: a query from a source over its rate (see rate-limit.ts) gets no reply at all; a
 * reply to an address that has not proven it receives our packets (`isVerified`) is trimmed to
 * {@link ResponderOptions.amplificationFactor} times the query's size, so a spoofed query cannot
 * make us send much more than the spoofer sent; no reply ever exceeds MAX_KRPC_DATAGRAM.
 */
import type { PeerAddress } from '../address.js';
import type { Clock } from '../clock.js';
import { type IpFamily, ipFamily } from './compact.js';
import type { DhtError } from './errors.js';
import { encodeKrpc, MAX_KRPC_DATAGRAM } from './krpc.js';
import {
  KrpcErrorCode,
  type KrpcErrorMessage,
  type KrpcQuery,
  type KrpcResponse,
  type NodeContact,
  type WantFamily,
} from './messages.js';
import { ID_BYTES, type NodeId, type RandomBytes } from './node-id.js';
import { PeerStore, type PeerStoreOptions } from './peer-store.js';
import { QueryRateLimiter, type RateLimitOptions } from './rate-limit.js';
import { TokenIssuer } from './tokens.js';

export interface ResponderContext {
  /** Our current node id. */
  ownId(): NodeId;
  /** Up to `count` good nodes closest to `target` of one family, from the routing table. */
  closestNodes(target: NodeId, family: 4 | 6, count: number): NodeContact[];
  /** True when `host:port` has proven it receives our packets (e.g. answered one of our queries). */
  isVerified(host: string, port: number): boolean;
}

export interface ResponderOptions {
  clock: Clock;
  random: RandomBytes;
  context: ResponderContext;
  /**
   * Bytes we may send an unverified address per byte of its query. A get_peers query is ~95
   * bytes, so 4 allows ~380: a token and 8 IPv4 nodes (~290) fit, 8 IPv6 nodes are trimmed to 6.
   * @default 4
   */
  amplificationFactor?: number;
  /** Nodes per family in a find_node / get_peers reply (Kademlia's k). @default 8 */
  nodesPerReply?: number;
  /** Most peers in one get_peers reply (libtorrent's `dht_max_peers_reply`). @default 100 */
  maxValues?: number;
  /** Our client version (`v`), sent in every reply when set. */
  version?: Uint8Array;
  /** Bounds of the announced-peer store (clock and random come from here). */
  peerStore?: Omit<PeerStoreOptions, 'clock' | 'random'>;
  /** Bounds of the per-source rate limit (clock comes from here). */
  rateLimit?: Omit<RateLimitOptions, 'clock'>;
  /** How often the token secret rotates. @default 300000 */
  tokenRotateMs?: number;
}

interface From {
  host: string;
  port: number;
}

export class QueryResponder {
  readonly #context: ResponderContext;
  readonly #factor: number;
  readonly #nodesPerReply: number;
  readonly #maxValues: number;
  readonly #version: Uint8Array | undefined;
  readonly #store: PeerStore;
  readonly #limiter: QueryRateLimiter;
  readonly #tokens: TokenIssuer;

  constructor(options: ResponderOptions) {
    this.#context = options.context;
    this.#factor = options.amplificationFactor ?? 4;
    this.#nodesPerReply = options.nodesPerReply ?? 8;
    this.#maxValues = options.maxValues ?? 100;
    this.#version = options.version;
    this.#store = new PeerStore({ clock: options.clock, random: options.random, ...options.peerStore });
    this.#limiter = new QueryRateLimiter({ clock: options.clock, ...options.rateLimit });
    this.#tokens = new TokenIssuer({
      clock: options.clock,
      random: options.random,
      ...(options.tokenRotateMs === undefined ? {} : { rotateMs: options.tokenRotateMs }),
    });
  }

  /**
   * The reply to send, or undefined to stay silent (rate-limited, or the source is not an address
   * we could reply to). `datagramBytes` is the query's size (amplification bound).
   */
  answer(query: KrpcQuery, from: From, datagramBytes: number): KrpcResponse | KrpcErrorMessage | undefined {
    const family = ipFamily(from.host);
    if (family === undefined || !validPort(from.port) || !this.#limiter.allow(from.host)) return undefined;
    const ip: PeerAddress = { host: from.host, port: from.port };
    const budget = this.#budget(from, datagramBytes);
    const reply: KrpcResponse = { kind: 'response', tid: query.tid, id: this.#context.ownId(), ip };
    if (this.#version) reply.version = this.#version;
    switch (query.method) {
      case 'ping':
        break;
      case 'find_node':
        this.#addNodes(reply, query.target, wantedFamilies(query.want, family));
        break;
      case 'get_peers': {
        reply.token = this.#tokens.issue(from.host);
        const values = this.#store.get(query.infoHash, this.#maxValues, family);
        if (values.length > 0) reply.values = values;
        else this.#addNodes(reply, query.infoHash, wantedFamilies(query.want, family));
        break;
      }
      case 'announce_peer': {
        if (!this.#tokens.verify(query.token, from.host)) {
          return errorReply(query.tid, KrpcErrorCode.protocol, 'invalid token', ip, budget);
        }
        const port = query.impliedPort ? from.port : query.port;
        if (!validPort(port))
          return errorReply(query.tid, KrpcErrorCode.protocol, 'invalid port', ip, budget);
        this.#store.add(query.infoHash, { host: from.host, port });
        break;
      }
      case 'unknown':
        return errorReply(query.tid, KrpcErrorCode.methodUnknown, 'method unknown', ip, budget);
    }
    return fit(reply, budget);
  }

  /** Bytes we may send `from` in answer to a query of `datagramBytes`. */
  #budget(from: From, datagramBytes: number): number {
    if (this.#context.isVerified(from.host, from.port)) return MAX_KRPC_DATAGRAM;
    return Math.min(MAX_KRPC_DATAGRAM, this.#factor * datagramBytes);
  }

  /**
   * The error 203 to send for a query the codec refused (`DhtError.queryTid` set), within the same
   * rate limit and amplification bound as answers; undefined for anything else (a bad reply is
   * never answered). `datagramBytes` is the refused datagram's size.
   */
  answerMalformed(error: DhtError, from: From, datagramBytes: number): KrpcErrorMessage | undefined {
    if (error.queryTid === undefined) return undefined;
    if (ipFamily(from.host) === undefined || !validPort(from.port) || !this.#limiter.allow(from.host))
      return undefined;
    const ip = { host: from.host, port: from.port };
    return errorReply(
      error.queryTid,
      KrpcErrorCode.protocol,
      'invalid arguments',
      ip,
      this.#budget(from, datagramBytes),
    );
  }

  /** Peers stored for `infoHash` (what get_peers hands out), or in all; for tests and stats. */
  storedPeerCount(infoHash?: NodeId): number {
    return this.#store.count(infoHash);
  }

  /** Approximate bytes held (peer store + rate-limit table + secrets). */
  memoryBytes(): number {
    return this.#store.memoryBytes() + this.#limiter.memoryBytes() + this.#tokens.memoryBytes();
  }

  #addNodes(reply: KrpcResponse, target: NodeId, families: IpFamily[]): void {
    for (const family of families) {
      // The routing table is trusted, but a contact we cannot encode must not crash the reply.
      const nodes = this.#context
        .closestNodes(target, family, this.#nodesPerReply)
        .filter((n) => n.id.length === ID_BYTES && validPort(n.port) && ipFamily(n.host) === family)
        .slice(0, this.#nodesPerReply);
      if (family === 4) reply.nodes = nodes;
      else reply.nodes6 = nodes;
    }
  }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** BEP 32: the families asked for in `want`, else the family the query came from. */
function wantedFamilies(want: WantFamily[] | undefined, family: IpFamily): IpFamily[] {
  if (want === undefined || want.length === 0) return [family];
  return [...(want.includes('n4') ? [4 as const] : []), ...(want.includes('n6') ? [6 as const] : [])];
}

/** An error reply, or silence when even that would exceed the amplification budget. */
function errorReply(
  tid: Uint8Array,
  code: number,
  message: string,
  ip: PeerAddress,
  budget: number,
): KrpcErrorMessage | undefined {
  const reply: KrpcErrorMessage = { kind: 'error', tid, code, message, ip };
  return encodeKrpc(reply).length <= budget ? reply : undefined;
}

/**
 * Trims `values`, then `nodes6`, then `nodes` (the farthest are last) until the encoded reply fits
 * `budget` bytes. What cannot be trimmed (id, token, ip) is small and always sent.
 */
function fit(reply: KrpcResponse, budget: number): KrpcResponse {
  for (let size = encodeKrpc(reply).length; size > budget; size = encodeKrpc(reply).length) {
    const excess = size - budget;
    if (reply.values?.length)
      reply.values = trim(reply.values, excess, ipFamily(reply.values[0]!.host) === 6 ? 21 : 8);
    else if (reply.nodes6?.length) reply.nodes6 = trim(reply.nodes6, excess, 38);
    else if (reply.nodes?.length) reply.nodes = trim(reply.nodes, excess, 26);
    else break;
  }
  // An empty `nodes` stays (some nodes expect the key in a find_node reply); empty `values` goes.
  if (reply.values?.length === 0) delete reply.values;
  return reply;
}

/** Drops enough entries from the end to save `excess` bytes, at least `itemBytes` each. */
function trim<T>(items: T[], excess: number, itemBytes: number): T[] {
  return items.slice(0, Math.max(0, items.length - Math.max(1, Math.ceil(excess / itemBytes))));
}
