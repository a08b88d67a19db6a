/** `lodestone/peer`: one peer connection (socket + wire codec + flow state) and the listener. */
export { type DialedSocket, type DialOptions, dialPeer, ReadRelay } from './dial.js';
export { type ListenerEvents, type ListenerOptions, PeerListener } from './listener.js';
export {
  type Direction,
  PeerConnection,
  type PeerConnectionEvents,
  type PeerConnectionOptions,
} from './peer-connection.js';
export { RateMeter } from './rate-meter.js';
