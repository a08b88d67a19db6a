/**
 * Named payload types of the `TorrentSession` events, for callers that store or forward
 * them. Each is derived from {@link TorrentSessionEvents}, which is the one definition.
 */
import type { TorrentSessionEvents } from './torrent-session.js';

/** Payload of `checking`: progress of the check of existing files before the download. */
export type CheckingEvent = TorrentSessionEvents['checking'][0];
/** Payload of `ready`: the check is over; how many pieces were already on disk. */
export type ReadyEvent = TorrentSessionEvents['ready'][0];
/** Payload of `peer-connected`: a peer finished its handshake (`address` is `host:port`). */
export type PeerConnectedEvent = TorrentSessionEvents['peer-connected'][0];
/** Payload of `peer-disconnected`: a connection ended, with the reason in words. */
export type PeerDisconnectedEvent = TorrentSessionEvents['peer-disconnected'][0];
/** Payload of `peers-learned`: new addresses a peer told us through peer exchange (BEP 11). */
export type PeersLearnedEvent = TorrentSessionEvents['peers-learned'][0];
/** Payload of `peer-banned`: a peer was banned for the rest of the session (bad data). */
export type PeerBannedEvent = TorrentSessionEvents['peer-banned'][0];
/** Payload of `tracker-response`: one successful announce and what it returned. */
export type TrackerResponseEvent = TorrentSessionEvents['tracker-response'][0];
/** Payload of `tracker-error`: one failed announce; the tracker is retried with back-off. */
export type TrackerErrorEvent = TorrentSessionEvents['tracker-error'][0];
/** Payload of `tracker-warning`: a tracker answered with a `warning message`. */
export type TrackerWarningEvent = TorrentSessionEvents['tracker-warning'][0];
/** Payload of `piece-verified`: a piece passed its SHA-1 check and goes to disk. */
export type PieceVerifiedEvent = TorrentSessionEvents['piece-verified'][0];
/** Payload of `piece-failed`: a piece failed its SHA-1 check; `peers` sent its blocks. */
export type PieceFailedEvent = TorrentSessionEvents['piece-failed'][0];
/** Payload of `wire` (only with `trace`): one peer-wire message sent or received. */
export type WireEvent = TorrentSessionEvents['wire'][0];
