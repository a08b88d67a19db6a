/**
 * Lodestone's public library API: a BitTorrent client for Node.js.
 *
 * The top level is what a program needs to download, seed and make torrents: {@link Client},
 * {@link TorrentSession} with its events, {@link parseTorrent} / {@link parseMagnet},
 * {@link createTorrent}, and the typed errors. The building blocks (codecs, trackers, storage,
 * policies) are subpath exports, each with its own entry:
 *
 * | import from | what |
 * |---|---|
 * | `lodestone` | this module |
 * | `lodestone/bencode` | bencode decoder and encoder |
 * | `lodestone/metainfo` | torrent files and magnet links: parsing, building, describing, path safety |
 * | `lodestone/create` | torrent creation and its piece-length rules |
 * | `lodestone/wire` | the peer wire protocol codecs (BEP 3, 9, 10) |
 * | `lodestone/tracker` | HTTP and UDP tracker clients and the announcer |
 * | `lodestone/peer` | a peer connection over a socket, the listener |
 * | `lodestone/policy` | piece picker and choker |
 * | `lodestone/storage` | the Storage interface, file and memory storage, hashing, the writer thread |
 *
 * The `lodestone` command uses only these entries, so they are enough for a real program.
 *
 * @module lodestone
 */
export { formatAddress, type PeerAddress, parseAddress } from './address.js';
export { Bitfield } from './bitfield.js';
export { type Clock, systemClock } from './clock.js';
export {
  type CreatedTorrent,
  type CreateTorrentOptions,
  createTorrent,
  type SkippedEntry,
} from './create/index.js';
export type { DhtStats } from './dht/node-options.js';
export { formatDurationMs, parseDurationMs } from './duration.js';
export * from './errors.js';
export { parseMagnet, toMagnetUri } from './metainfo/magnet.js';
export { type MetadataExtras, parseInfoDictionary, parseTorrent } from './metainfo/parse-torrent.js';
export type { FileRange, MagnetLink, TorrentFile, TorrentMetadata } from './metainfo/types.js';
export { MseError, type MseFailure } from './net/mse/errors.js';
export { type ConnectionEncryption, ENCRYPTION_POLICIES, type EncryptionPolicy } from './net/mse/policy.js';
export type { NumberMap } from './number-map.js';
export type { BandwidthPriority } from './policy/bandwidth.js';
export type { PeerLimits } from './policy/peer-budget.js';
export type { PeerSource } from './session/address-book.js';
export type { RateLimits, TorrentRateLimits } from './session/bandwidth-limits.js';
export { type AddTorrentOptions, Client, type ClientEvents, type ClientOptions } from './session/client.js';
export type { ClientDhtStats, DhtOptions, DhtStateStore } from './session/dht-service.js';
export type { DhtTrackHooks, SessionDht } from './session/dht-torrent.js';
export { DiscoveryCounters, type DiscoveryCountersSummary } from './session/discovery-counters.js';
export {
  type DiscoveryProbeOptions,
  type DiscoveryTarget,
  runDiscoveryProbe,
} from './session/discovery-probe.js';
export {
  countPeers,
  type DoctorPeer,
  type DoctorPeerCounts,
  type DoctorReport,
  type DoctorSource,
  type DoctorSourceKind,
  type DoctorSourceStatus,
  PEER_FAILURES,
  type PeerFailure,
} from './session/doctor-report.js';
export { type DoctorVerdict, type DoctorVerdictCode, doctorVerdict } from './session/doctor-verdict.js';
export type {
  CheckingEvent,
  PeerBannedEvent,
  PeerConnectedEvent,
  PeerDisconnectedEvent,
  PeersLearnedEvent,
  PieceFailedEvent,
  PieceVerifiedEvent,
  ReadyEvent,
  ResumeEvent,
  ResumeWarningEvent,
  TrackerErrorEvent,
  TrackerResponseEvent,
  TrackerWarningEvent,
  WireEvent,
} from './session/event-types.js';
export type { FileChoice, FilePriority } from './session/file-selection.js';
export {
  describeMetadataAttempt,
  type MetadataAttemptSummary,
  type MetadataPeerOutcome,
  type MetadataTrackerRecord,
} from './session/metadata-attempt.js';
export {
  MetadataFetcher,
  type MetadataFetcherEvents,
  type MetadataFetcherOptions,
  type MetadataFetcherTimers,
  type MetadataMemoryStats,
  type MetadataProgress,
} from './session/metadata-fetcher.js';
export { noPeerSourceError, type PeerSources } from './session/peer-source.js';
export type { PeerState } from './session/peer-state.js';
export type { ProbeDht, ProbeDhtLookup } from './session/probe-dht.js';
export type { ResumeStartInfo } from './session/resume-keeper.js';
export {
  type InternalErrorInfo,
  type SessionStats,
  TorrentSession,
  type TorrentSessionEvents,
  type TorrentSessionOptions,
} from './session/torrent-session.js';
export type { ResumeFileState, ResumeRecord } from './storage/resume-record.js';
export { DirectoryResumeStore, type ResumeStore } from './storage/resume-store.js';
export type { CheckProgress, Storage } from './storage/types.js';
export type { AnnounceResponse } from './tracker/types.js';
export { CLIENT_NAME, VERSION } from './version.js';
export type { Message } from './wire/types.js';
