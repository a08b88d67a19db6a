/**
 * The Transmission-compatible RPC over a {@link DaemonApi}: server.ts (HTTP and security),
 * methods.ts (requests ⇄ daemon calls), and the pure mappings beside them. See docs/rpc.md.
 */
export { RPC_METHODS, type RpcLog } from './methods.js';
export type { RpcServer, RpcServerOptions } from './server.js';
export { MAX_BODY_BYTES, startRpcServer } from './server.js';
export { RPC_VERSION, RPC_VERSION_MINIMUM } from './session-fields.js';
export { TORRENT_FIELDS } from './torrent-fields.js';
