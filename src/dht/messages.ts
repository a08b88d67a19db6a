/**
 * KRPC messages (BEP 5) as typed values: what the codec (`krpc.ts`) decodes datagrams into and
 * encodes from. The node logic works on these, never on bytes, so it is testable on a simulated
 * network without sockets.
 */
import type { PeerAddress } from '../address.js';
import type { NodeId } from './node-id.js';

/** A DHT node as routing tables and `nodes`/`nodes6` (compact node info) carry it. */
export interface NodeContact {
  id: NodeId;
  /** Literal IPv4 or IPv6 address. */
  host: string;
  /** UDP port, 1–65535. */
  port: number;
}

/** Which address families a querier wants nodes for (BEP 32 `want`). */
export type WantFamily = 'n4' | 'n6';

interface QueryBase {
  kind: 'query';
  /** Transaction id, echoed in the reply (short: we send 2 bytes, others up to a few). */
  tid: Uint8Array;
  /** The querying node's id (`a.id`). */
  id: NodeId;
  /** BEP 43: the querier is read-only and must not be added to routing tables. */
  readOnly: boolean;
  /** `v`, the client version string's raw bytes, when sent. */
  version?: Uint8Array;
}

export interface PingQuery extends QueryBase {
  method: 'ping';
}
export interface FindNodeQuery extends QueryBase {
  method: 'find_node';
  target: NodeId;
  want?: WantFamily[];
}
export interface GetPeersQuery extends QueryBase {
  method: 'get_peers';
  infoHash: NodeId;
  want?: WantFamily[];
}
export interface AnnouncePeerQuery extends QueryBase {
  method: 'announce_peer';
  infoHash: NodeId;
  /** The announced TCP port (ignored by the receiver when `impliedPort`). */
  port: number;
  /** `implied_port` = 1: use the UDP source port instead of `port`. */
  impliedPort: boolean;
  token: Uint8Array;
}
/** A query whose method we do not know: answered with error 204 ("method unknown"). */
export interface UnknownQuery extends QueryBase {
  method: 'unknown';
  /** The method name as sent (bounded length, for logs). */
  name: string;
}

export type KrpcQuery = PingQuery | FindNodeQuery | GetPeersQuery | AnnouncePeerQuery | UnknownQuery;

/**
 * A reply (`y` = `r`). Which fields are present depends on the query it answers; the codec does
 * not know that (it has no transaction table), so all are optional beyond `id`.
 */
export interface KrpcResponse {
  kind: 'response';
  tid: Uint8Array;
  /** The responder's id (`r.id`). */
  id: NodeId;
  /** Compact IPv4 nodes (`r.nodes`). */
  nodes?: NodeContact[];
  /** Compact IPv6 nodes (`r.nodes6`, BEP 32). */
  nodes6?: NodeContact[];
  /** Peers (`r.values`), IPv4 and IPv6 compact peer info mixed. */
  values?: PeerAddress[];
  /** Write token for a later `announce_peer` (`r.token`). */
  token?: Uint8Array;
  /** BEP 42: our address as the responder saw it (top-level `ip`). */
  ip?: PeerAddress;
  version?: Uint8Array;
}

/** KRPC error codes (BEP 5). */
export const KrpcErrorCode = {
  generic: 201,
  server: 202,
  protocol: 203,
  methodUnknown: 204,
} as const;

export interface KrpcErrorMessage {
  kind: 'error';
  tid: Uint8Array;
  code: number;
  message: string;
  ip?: PeerAddress;
}

export type KrpcMessage = KrpcQuery | KrpcResponse | KrpcErrorMessage;
