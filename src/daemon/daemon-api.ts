/**
 * The contract between the daemon (many torrents, settings, state folder) and whatever drives
 * it: the Transmission-compatible RPC (`daemon/rpc/`), the CLI, tests. The daemon implements
 * {@link DaemonApi}; the RPC layer only translates Transmission's JSON to and from these calls,
 * so it can be tested against any implementation and the daemon without HTTP.
 *
 * Units: bytes, bytes per second, seconds since the Unix epoch for dates (0 = never), ratios as
 * plain numbers. Errors are {@link LodestoneError}s with stable codes (see `daemon/errors.ts`).
 */
import type { DaemonSettings } from './settings-types.js';

/** A torrent's id in this daemon: a small integer, stable while the daemon runs (as Transmission's). */
export type TorrentId = number;

/**
 * Which torrents a call acts on: all of them (`undefined`), ids and/or info-hashes (40 hex
 * characters, any case), or those active in the last minute (`'recently-active'`).
 */
export type TorrentSelector = undefined | 'recently-active' | ReadonlyArray<TorrentId | string>;

/** Transmission's seven states, in its order (its numbers 0–6 are the RPC's business). */
export type TorrentStatus =
  | 'stopped'
  | 'check-wait'
  | 'checking'
  | 'download-wait'
  | 'downloading'
  | 'seed-wait'
  | 'seeding';

export type FilePriority = 'low' | 'normal' | 'high';

/** What a torrent's ratio or idle limit follows: the global setting, its own value, or none. */
export type LimitMode = 'global' | 'single' | 'unlimited';

/** Per-torrent settings, all of which `set` can change and the daemon keeps across restarts. */
export interface TorrentSettings {
  /** Download limit in bytes/s; `undefined` = none of its own (the global limit still applies). */
  downloadLimit: number | undefined;
  /** Upload limit in bytes/s; `undefined` = none of its own. */
  uploadLimit: number | undefined;
  /** Whether the global (and alternative) speed limits apply to this torrent. */
  honorsSessionLimits: boolean;
  /** Most peers connected at once for this torrent. */
  peerLimit: number;
  seedRatioMode: LimitMode;
  seedRatioLimit: number;
  seedIdleMode: LimitMode;
  /** Minutes without upload after which seeding stops (when `seedIdleMode` is 'single'). */
  seedIdleLimit: number;
  /** Download pieces in order (first and last pieces early), for media players. */
  sequential: boolean;
  labels: string[];
  /** Bandwidth priority of the torrent among torrents. */
  bandwidthPriority: FilePriority;
}

/** One file of a torrent, as `torrent-get` `files` + `fileStats` need it. */
export interface TorrentFileView {
  /** Path inside the download folder, '/'-separated, with the torrent's top folder first if it has one. */
  name: string;
  length: number;
  /** Verified bytes of this file (pieces it overlaps that are verified, clipped to the file). */
  bytesCompleted: number;
  wanted: boolean;
  priority: FilePriority;
}

/** One connected peer, as `torrent-get` `peers` needs it. */
export interface TorrentPeerView {
  address: string;
  port: number;
  /** The client name from its peer id or extension handshake (`''` when unknown). */
  clientName: string;
  /** Share of the torrent the peer has, 0–1. */
  progress: number;
  rateToClient: number;
  rateToPeer: number;
  isEncrypted: boolean;
  isUtp: boolean;
  isIncoming: boolean;
  clientIsChoked: boolean;
  clientIsInterested: boolean;
  peerIsChoked: boolean;
  peerIsInterested: boolean;
}

/** One tracker of a torrent, as `torrent-get` `trackers` + `trackerStats` need it. */
export interface TorrentTrackerView {
  /** Stable within the torrent. */
  id: number;
  tier: number;
  announce: string;
  /** The announce URL's `scheme://host:port`. */
  host: string;
  lastAnnounceTime: number;
  lastAnnounceSucceeded: boolean;
  /** 'Success' or the error or warning text. */
  lastAnnounceResult: string;
  lastAnnouncePeerCount: number;
  nextAnnounceTime: number;
  /** -1 when the tracker has not said. */
  seederCount: number;
  leecherCount: number;
  downloadCount: number;
}

/** Cheap scalar facts of one torrent: enough for a list (`transmission-remote -l`). */
export interface TorrentSummary {
  id: TorrentId;
  /** Info-hash, 40 lowercase hex characters. */
  hash: string;
  /** The torrent's name; a magnet's `dn` (or the hash) until its metadata arrives. */
  name: string;
  status: TorrentStatus;
  /** The torrent's last error, until it is started again; `undefined` when none. */
  error: { kind: 'tracker-warning' | 'tracker-error' | 'local'; message: string } | undefined;
  /** False for a magnet whose metadata has not arrived yet (then sizes are 0). */
  hasMetadata: boolean;
  /** Share of the metadata fetched, 0–1 (1 once it is there). */
  metadataProgress: number;
  totalSize: number;
  /** Bytes of the wanted files (what "done" means with a file selection). */
  sizeWhenDone: number;
  leftUntilDone: number;
  /** Verified bytes of the whole torrent. */
  haveValid: number;
  /** Share of `sizeWhenDone` verified, 0–1. */
  percentDone: number;
  /** Share of the pieces checked during a verify, 0–1 (0 when not checking). */
  recheckProgress: number;
  pieceCount: number;
  pieceSize: number;
  downloadedEver: number;
  uploadedEver: number;
  corruptEver: number;
  rateDownload: number;
  rateUpload: number;
  /** Seconds until done at the current rate; -1 when unknown, -2 when not downloading. */
  eta: number;
  peersConnected: number;
  peersSendingToUs: number;
  peersGettingFromUs: number;
  addedDate: number;
  doneDate: number;
  activityDate: number;
  startDate: number;
  /** Absolute path of the folder the torrent's files are in. */
  downloadDir: string;
  isPrivate: boolean;
  /** True when every wanted piece is verified and seeding ended by a ratio or idle limit. */
  isFinished: boolean;
  magnetLink: string;
  comment: string;
  creator: string;
  dateCreated: number;
  queuePosition: number;
  settings: TorrentSettings;
}

/** A torrent as the daemon shows it; the heavy parts are methods so a list stays cheap. */
export interface DaemonTorrent {
  readonly id: TorrentId;
  readonly hash: string;
  summary(): TorrentSummary;
  /** Empty until the metadata is known. */
  files(): TorrentFileView[];
  peers(): TorrentPeerView[];
  trackers(): TorrentTrackerView[];
  /** The verified-pieces bitfield (BEP 3 bit order), empty until the metadata is known. */
  pieces(): Uint8Array;
}

/** Where a torrent to add comes from. */
export type AddSource =
  | { kind: 'metainfo'; bytes: Uint8Array }
  | { kind: 'magnet'; uri: string }
  /** A `.torrent` file on the daemon's machine. */
  | { kind: 'file'; path: string };

export interface AddRequest {
  source: AddSource;
  /** Added stopped. @default !settings['start-added-torrents'] */
  paused?: boolean;
  /** @default settings['download-dir'] */
  downloadDir?: string;
  /** File indexes (into the torrent's file list) to download; the others are not. @default all */
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityNormal?: number[];
  priorityLow?: number[];
  /** Initial per-torrent settings. */
  settings?: Partial<TorrentSettings>;
}

export interface AddResult {
  torrent: DaemonTorrent;
  /** The info-hash was already in the daemon: nothing was added, `torrent` is the existing one. */
  duplicate: boolean;
}

/** Changes `set` makes; every field is optional, only those given change. */
export interface TorrentPatch extends Partial<TorrentSettings> {
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityNormal?: number[];
  priorityLow?: number[];
  queuePosition?: number;
  /** Replaces the tracker list (tiers of URLs). */
  trackerList?: string[][];
}

/** Totals for `session-stats`. */
export interface TransferTotals {
  uploadedBytes: number;
  downloadedBytes: number;
  filesAdded: number;
  /** Number of daemon starts counted (1 for the current run). */
  sessionCount: number;
  secondsActive: number;
}

export interface DaemonSessionStats {
  torrentCount: number;
  activeTorrentCount: number;
  pausedTorrentCount: number;
  downloadSpeed: number;
  uploadSpeed: number;
  /** Since the state folder was created. */
  cumulative: TransferTotals;
  /** Since this daemon started. */
  current: TransferTotals;
}

export interface SettingsUpdate {
  /** Keys whose new value took effect. */
  applied: string[];
  /** Keys the daemon does not know: kept in the settings file, reported, otherwise ignored. */
  unknown: string[];
}

export type QueueMove = 'top' | 'up' | 'down' | 'bottom';

/** What the daemon offers to the RPC, the CLI and tests. */
export interface DaemonApi {
  /** The daemon's settings, with Transmission's `settings.json` key names. */
  settings(): Readonly<DaemonSettings>;
  /** Changes settings (as `session-set`); saved to the settings file. Invalid values throw, nothing is applied then. */
  updateSettings(patch: Record<string, unknown>): Promise<SettingsUpdate>;
  stats(): DaemonSessionStats;
  /** The selected torrents, in queue order; unknown ids and hashes are skipped. */
  torrents(selector?: TorrentSelector): DaemonTorrent[];
  /** Ids of torrents removed in the last minute (for `torrent-get` with `ids: 'recently-active'`). */
  recentlyRemoved(): TorrentId[];
  add(request: AddRequest): Promise<AddResult>;
  /** Starts (or queues) the torrents; `now` skips the queue. */
  start(selector: TorrentSelector, options?: { now?: boolean }): Promise<void>;
  stop(selector: TorrentSelector): Promise<void>;
  /** Forces a re-check of every piece of the torrents (their resume records are ignored). */
  verify(selector: TorrentSelector): Promise<void>;
  reannounce(selector: TorrentSelector): Promise<void>;
  remove(selector: TorrentSelector, options?: { deleteData?: boolean }): Promise<void>;
  /** Points the torrents at another folder; with `move`, their files are moved there first. */
  setLocation(selector: TorrentSelector, location: string, options: { move: boolean }): Promise<void>;
  /** Renames a file or folder inside one torrent (`path` relative to its download folder). */
  renamePath(id: TorrentId, path: string, newName: string): Promise<{ path: string; name: string }>;
  set(selector: TorrentSelector, patch: TorrentPatch): Promise<void>;
  queueMove(selector: TorrentSelector, move: QueueMove): Promise<void>;
  /** Free and total bytes of the file system holding `path`. */
  freeSpace(path: string): Promise<{ path: string; freeBytes: number; totalBytes: number }>;
}
