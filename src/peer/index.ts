/**
 * `lodestone/peer`: One peer connection (socket + wire codec + choke/interest state), dialing, and
 * the listener for incoming peers.
 *
 * @module lodestone/peer
 */
export type { ChunkSource } from '../net/chunk-relay.js';
export { type DialedSocket, type DialOptions, dialPeer, ReadRelay } from './dial.js';
export type { PeerTransport, UtpDialer } from './dial-transport.js';
export { type ListenerEvents, type ListenerOptions, PeerListener } from './listener.js';
export {
  type Direction,
  PeerConnection,
  type PeerConnectionEvents,
  type PeerConnectionOptions,
} from './peer-connection.js';
export { RateMeter } from './rate-meter.js';
export type { ByteThrottle, ConnectionThrottles } from './throttle.js';
