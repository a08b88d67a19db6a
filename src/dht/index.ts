/**
 * The DHT (BEP 5, BEP 32): pure node logic over typed KRPC messages. The socket glue (a UDP
 * route that decodes datagrams and calls `DhtNode.receive`) lives outside this room; see
 * docs/dht.md.
 */
export { DhtNode } from './dht-node.js';
export { DhtError, type DhtErrorCode, type DhtErrorContext } from './errors.js';
export { decodeKrpc, encodeKrpc, MAX_KRPC_DATAGRAM } from './krpc.js';
export {
  Lookup,
  type LookupOptions,
  type LookupReply,
  type LookupResult,
  type RespondedNode,
} from './lookup.js';
export type {
  AnnouncePeerQuery,
  FindNodeQuery,
  GetPeersQuery,
  KrpcErrorMessage,
  KrpcMessage,
  KrpcQuery,
  KrpcResponse,
  NodeContact,
  PingQuery,
  UnknownQuery,
  WantFamily,
} from './messages.js';
export { KrpcErrorCode } from './messages.js';
export {
  compareDistance,
  ID_BITS,
  ID_BYTES,
  idHex,
  isNodeId,
  type NodeId,
  type RandomBytes,
  randomIdWithPrefix,
  sameId,
  sharedPrefixBits,
  xorDistance,
} from './node-id.js';
export type {
  DhtNodeContext,
  DhtNodeOptions,
  DhtStats,
  GetPeersResult,
  QueryAnswerer,
} from './node-options.js';
export { PeerStore, type PeerStoreOptions } from './peer-store.js';
export { QueryRateLimiter, type RateLimitOptions } from './rate-limit.js';
export { QueryResponder, type ResponderContext, type ResponderOptions } from './responder.js';
export {
  type Family,
  familyOf,
  type HeardResult,
  NODE_FRESH_MS,
  type NodeState,
  type RoutingEntry,
  type RoutingTableOptions,
} from './routing-entry.js';
export { RoutingTable } from './routing-table.js';
export {
  crc32c,
  ExternalIpVotes,
  type ExternalIpVotesOptions,
  isExemptFromSecureId,
  isSecureNodeId,
  secureNodeId,
} from './secure-id.js';
export { type DhtState, decodeDhtState, encodeDhtState, MAX_STATE_BYTES, MAX_STATE_NODES } from './state.js';
export { TokenIssuer, type TokenOptions } from './tokens.js';
export { type TransactionOptions, TransactionTable } from './transactions.js';
