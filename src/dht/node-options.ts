/**
 * The options, statistics and collaborator shapes of a `DhtNode` (src/dht/dht-node.ts).
 */
import type { Clock } from '../clock.js';
import type { DhtError } from './errors.js';
import type { LookupResult } from './lookup.js';
import type { KrpcErrorMessage, KrpcMessage, KrpcQuery, KrpcResponse } from './messages.js';
import type { NodeId, RandomBytes } from './node-id.js';
import type { ResponderContext } from './responder.js';

/** What an answerer needs from the node: dht-proto's ResponderContext. */
export type DhtNodeContext = ResponderContext;

/** Answers incoming queries (dht-proto's QueryResponder has this method). */
export interface QueryAnswerer {
  answer(
    query: KrpcQuery,
    from: { host: string; port: number },
    datagramBytes: number,
  ): KrpcResponse | KrpcErrorMessage | undefined;
  /** The error 203 for a query the codec refused (QueryResponder.answerMalformed), or undefined. */
  answerMalformed?(
    error: DhtError,
    from: { host: string; port: number },
    datagramBytes: number,
  ): KrpcErrorMessage | undefined;
  /** Approximate bytes held (QueryResponder: peer store, rate-limit table, secrets). */
  memoryBytes?(): number;
  /** Peers stored for others (QueryResponder's announced-peer store). */
  storedPeerCount?(): number;
}

/** A get_peers lookup's outcome; `announced` counts the announce_peer queries acknowledged (announce only). */
export interface GetPeersResult extends LookupResult {
  announced?: number;
}

export interface DhtStats {
  nodes: number;
  good: number;
  questionable: number;
  bad: number;
  replacements: number;
  queriesSent: number;
  queriesReceived: number;
  responsesReceived: number;
  errorsReceived: number;
  timeouts: number;
  /** Replies that matched no query of ours (unknown tid, or from another address): ignored. */
  unsolicited: number;
  /** Queries not sent because too many were outstanding. */
  refused: number;
  lookups: number;
  /** Times our id was replaced by a BEP 42 secure one. */
  idChanges: number;
  activeLookups: number;
  outstanding: number;
  /** Peers stored for others (announce_peer), when the answerer keeps any. */
  storedPeers: number;
}

export interface DhtNodeOptions {
  clock: Clock;
  random: RandomBytes;
  /** Our node id (e.g. the saved one). @default random, then secure once the external IP is known (see `secureId`) */
  id?: NodeId;
  send(message: KrpcMessage, to: { host: string; port: number }): void;
  /** Builds the answerer of incoming queries from this node's context. @default a QueryResponder (responder.ts) with its default bounds */
  answerer?(context: DhtNodeContext): QueryAnswerer;
  /** k: bucket size and lookup width. @default 8 */
  k?: number;
  /** Parallel queries per lookup. @default 3 */
  alpha?: number;
  /** Per-query timeout before any RTT is known, and its upper clamp. @default 2000 */
  timeoutMs?: number;
  /** Lower clamp of the adaptive per-query timeout. @default 500 */
  minTimeoutMs?: number;
  /** A lookup query with no reply after this long frees its slot for one more. @default 1000 */
  slowMs?: number;
  /** Queries outstanding at once. @default 256 */
  maxOutstanding?: number;
  /** Candidates a lookup keeps. @default 100 */
  maxCandidates?: number;
  /** Times a lookup asks a node that times out before giving up on it. @default 4 */
  maxAttempts?: number;
  /** Period of the stale-bucket check. @default 60000 */
  refreshCheckMs?: number;
  /**
   * Replace our id by a BEP 42 secure one once 3 responders agree on our external IP (and it is
   * not valid for it). Set it with a saved `id` (state.ts) to keep that id only while it is valid.
   * @default true without `id`, false with one
   */
  secureId?: boolean;
  /** After bootstrap, look up one random id in each bucket's range (fills the far buckets). @default true */
  refreshOnBootstrap?: boolean;
  /**
   * The address families the node's socket can reach (BEP 32). Each lookup runs once per family
   * over that family's routing table (announce too: to the closest k of each), and with both,
   * bootstrap's find_node asks for nodes of both (`want` n4 n6). @default [4, 6]
   */
  families?: readonly (4 | 6)[];
}
