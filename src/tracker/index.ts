/**
 * `lodestone/tracker`: Tracker clients: HTTP (BEP 3, 23, 7) and UDP (BEP 15), and the announcer
 * that runs the tiers (BEP 12).
 *
 * @module lodestone/tracker
 */

export { MAX_PEERS_PER_ANSWER } from './announce-common.js';
export {
  Announcer,
  type AnnouncerEvents,
  type AnnouncerOptions,
  type AnnouncerStats,
  type AnnouncerTimers,
  DEFAULT_MAX_ANNOUNCES_IN_FLIGHT,
} from './announcer.js';
export { type CreateTrackerOptions, createTrackerClient } from './create-tracker.js';
export {
  buildAnnounceUrl,
  HttpTracker,
  type HttpTrackerOptions,
  parseHttpAnnounceResponse,
  percentEncodeBytes,
} from './http-tracker.js';
export type { AnnounceEvent, AnnounceRequest, AnnounceResponse, TrackerClient } from './types.js';
export {
  type DecodeUdpOptions,
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  UDP_PROTOCOL_ID,
  type UdpResponse,
  UdpTracker,
  type UdpTrackerOptions,
} from './udp-tracker.js';
