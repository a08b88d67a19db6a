import type { PeerBudget } from '../policy/peer-budget.js';
import type { ReadCacheBudget } from '../storage/read-cache-budget.js';
import type { AnnounceSpread } from './announce-spread.js';
import type { SessionTicker } from './session-ticker.js';
import type { StartGate } from './start-gate.js';
/** The options, statistics and events of a TorrentSession (its public types). */

import type { PeerAddress } from '../address.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { ConnectionEncryption, EncryptionPolicy } from '../net/mse/policy.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import type { BandwidthChannel } from '../policy/bandwidth.js';
import type { DialBudget } from '../policy/dial-budget.js';
import type { HashPool } from '../storage/hasher.js';
import type { ResumeStore } from '../storage/resume-store.js';
import type { CheckProgress, Storage } from '../storage/types.js';
import type { AnnounceResponse, TrackerClient } from '../tracker/types.js';
import type { Message } from '../wire/types.js';
import type { SessionDht } from './dht-torrent.js';
import type { PeerFailure } from './doctor-report.js';
import type { FileChoice } from './file-selection.js';
import type { ResumeStartInfo } from './resume-keeper.js';

/**
 * Options of a {@link TorrentSession} made directly; {@link Client.add} fills them from the
 * client's options and {@link AddTorrentOptions}.
 */
export interface TorrentSessionOptions {
  /** The torrent. */
  meta: TorrentMetadata;
  /** Where pieces are read and written. */
  storage: Storage;
  /** SHA-1 workers for checking existing data. */
  hashPool: HashPool;
  /** Our 20-byte peer id. */
  peerId: Buffer;
  /** Port we announce to trackers (our listener's port; 0 when not listening). */
  port: number;
  /** Most peers connected at once. @default 50 */
  maxPeers?: number;
  /**
   * The client's connection budget (global and per-torrent caps, see PeerBudget): when given,
   * it replaces `maxPeers` and counts this torrent's connections.
   */
  peerBudget?: PeerBudget;
  /** The client's read-cache bound shared by its torrents; without it the session has its own 16 MiB. */
  readCacheBudget?: ReadCacheBudget;
  /** The client's spreading of its torrents' first announces. @internal */
  announceSpread?: AnnounceSpread;
  /** The client's bound on torrents checking their files at once. @internal */
  startGate?: StartGate;
  /** The client's shared one-second tick; without it the session has its own timer. @internal */
  ticker?: SessionTicker;
  /** Unchoke slots for uploading. @default 4 */
  uploadSlots?: number;
  /** Announce to the torrent's trackers. @default true */
  useTrackers?: boolean;
  /** Peers to dial at once (magnet `x.pe`, manual). */
  peers?: PeerAddress[];
  /** Local address for outgoing connections and announces. */
  bindAddress?: string;
  /** Check existing files before downloading (resume). @default true */
  checkExisting?: boolean;
  /**
   * Keep a fast-resume record of this torrent in this store: read at start (files unchanged
   * since the record are trusted without hashing; pieces touching a changed file are re-checked),
   * written every `resumeSaveIntervalMs` while pieces are verified, at completion and at stop.
   * Needs a storage with `fileStates` (FileStorage). See docs/resume.md. @default none
   */
  resume?: ResumeStore;
  /** The folder of the files, recorded in the resume record (a record for another folder is not used). */
  savePath?: string;
  /** Resume record saves while downloading, at most this often. @default 30000 */
  resumeSaveIntervalMs?: number;
  /** Keep running after completion, serving peers. @default false */
  seed?: boolean;
  /** Emit a `wire` event for every message (for --trace). @default false */
  trace?: boolean;
  /**
   * RAM for piece data being downloaded: half for partial pieces, half for
   * complete pieces waiting for their hash check or the disk (requests pause
   * beyond it). The bulk of a download's memory. @default 16 MiB
   */
  memoryBudget?: number;
  /**
   * Time a TCP connect to a peer may take; at most 4 s while many untried addresses wait
   * (`dialTimeouts` in `lodestone/policy`). @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How to dial over uTP (BEP 29): a {@link Client} passes its uTP socket's dialler. Peers are
   * then dialled over uTP first, and over TCP too when uTP has not connected within a second.
   * `false` or absent: TCP only.
   */
  utp?: UtpDialer | false;
  /** Protocol encryption (MSE/PE) for dialled and accepted peers. @default 'prefer' */
  encryption?: EncryptionPolicy;
  /** Time a peer we dialed has to answer with its handshake; at most 5 s under the same pressure. @default 10000 */
  handshakeTimeoutMs?: number;
  /**
   * Paces dials: at most 100 in flight, about 200 attempts a second (see {@link DialBudget}).
   * A {@link Client} shares one among its torrents. @default a budget of its own
   */
  dialBudget?: DialBudget;
  /** Makes the tracker client for an announce URL. @default HTTP or UDP by scheme */
  createTrackerClient?: (url: string) => TrackerClient;
  /** The client's DHT (BEP 5): reserved bit, `port` messages, lookups. Ignored for a private torrent. */
  dht?: SessionDht;
  /** Timing knobs for the announcer (tests). */
  trackerRetryBaseMs?: number;
  /**
   * This torrent's download limit in bytes per second, payload and protocol overhead
   * (docs/rate-limits.md); change it live with `setLimits`. @default 0 (unlimited)
   */
  downloadLimit?: number;
  /** This torrent's upload limit in bytes per second, as `downloadLimit`. @default 0 (unlimited) */
  uploadLimit?: number;
  /** The client-wide channels this torrent also pays into (a {@link Client} passes its own). */
  clientBandwidth?: { download: BandwidthChannel; upload: BandwidthChannel };
  /**
   * Which files to download, one choice per file of the torrent (see docs/file-selection.md);
   * change it later with `setFiles`. @default every file wanted, normal priority
   */
  files?: readonly FileChoice[];
  /** Download the wanted files' pieces in order (first and last piece of each file first). @default false */
  sequential?: boolean;
  /**
   * Part file for the bytes of wanted pieces that fall in unwanted files. The session does not
   * open it: `Client.add` gives it to the FileStorage it makes (`FileStorageOptions.partFile`);
   * a session made directly with its own storage configures the storage instead. Kept here so
   * the options of a session describe it whole. @default `<save path>/.<infohash hex>.parts`
   */
  partFile?: string;
}

/** A snapshot of a torrent's progress, from {@link TorrentSession.stats}. */
export interface SessionStats {
  /** Size of the torrent's content in bytes. */
  totalLength: number;
  /** Bytes of pieces verified and on disk (or already there at the start). */
  verifiedBytes: number;
  /** Piece data received from peers in this session, in bytes. */
  downloadedBytes: number;
  /** Piece data sent to peers in this session, in bytes. */
  uploadedBytes: number;
  /** Received bytes thrown away: duplicates, unrequested blocks, pieces that failed their hash. */
  wastedBytes: number;
  /** Pieces we have, verified. */
  piecesVerified: number;
  /** Pieces in the torrent. */
  pieceCount: number;
  /** Download rate over the last seconds, bytes per second, all peers. */
  downloadRate: number;
  /** Upload rate over the last seconds, bytes per second, all peers. */
  uploadRate: number;
  /** Peers connected now. */
  peers: number;
  /** Of those, peers that have every piece. */
  seeds: number;
  /** Peer addresses known (from trackers, the magnet, incoming connections), connected or not. */
  knownPeers: number;
  /** Peer addresses added to the address book from peer exchange (BEP 11 PEX) since the start. */
  pexLearned: number;
  /** In endgame mode: the last blocks are requested from several peers at once. */
  endgame: boolean;
  /** Bytes of the wanted files (`totalLength` minus unwanted files and padding). */
  wantedBytes: number;
  /** Of those, bytes in verified pieces: equal to `wantedBytes` once the selection is complete. */
  wantedVerifiedBytes: number;
}

/**
 * The events a {@link TorrentSession} emits, with their payloads (`session.on(name, listener)`).
 * Addresses are `host:port` (`[v6]:port` for IPv6).
 */
export interface TorrentSessionEvents {
  /** Progress of the check of existing files (resume), before any peer is contacted. */
  checking: [CheckProgress];
  /**
   * The check is over: `verifiedPieces` were already on disk (`piecesHashed` of them or of the
   * others were read and hashed to find out; pieces a resume record vouched for were not); peers
   * come next.
   */
  ready: [{ verifiedPieces: number; piecesHashed: number }];
  /** With a resume store: how the record was used, just before `ready`. */
  resume: [ResumeStartInfo & { piecesHashed: number }];
  /**
   * With a resume store: the record could not be used (corrupted, another torrent; every piece
   * is checked instead) or could not be written (it is tried again later). Never fatal.
   */
  'resume-warning': [{ message: string }];
  /** A peer completed its handshake; `client` is its BEP 10 `v` name when it sent one. */
  'peer-connected': [
    {
      address: string;
      client?: string;
      direction: 'inbound' | 'outbound';
      /** `rc4` after an MSE handshake that selected RC4, `plain` otherwise. */
      encryption: ConnectionEncryption;
      /** The transport under the peer wire. */
      transport: 'tcp' | 'utp';
    },
  ];
  /** A connection ended; `reason` says why in words (timeouts, protocol violations, ours or theirs). */
  'peer-disconnected': [{ address: string; reason: string }];
  /**
   * Dialling a peer failed before any connection: `reason` is one of a small closed set
   * (refused, timeout, dropped, encryption-failed, other), `message` the error in words.
   */
  'peer-dial-failed': [{ address: string; reason: PeerFailure; message: string }];
  /**
   * New peer addresses a peer told us (`source` 'pex': a BEP 11 message from `from`), or a DHT
   * lookup found (`source` 'dht', `from` 'dht'), added to the address book and dialled like the
   * others; only the new ones (at most 200 from one peer in all).
   */
  'peers-learned': [{ source: 'pex' | 'dht'; from: string; addresses: string[] }];
  /** A peer sent bad data and is never dialled or accepted again in this session. */
  'peer-banned': [{ address: string; reason: string }];
  /** An announce succeeded; `response` holds the interval, peer counts and peers. */
  'tracker-response': [{ url: string; response: AnnounceResponse }];
  /** An announce failed; the tier is retried with back-off. */
  'tracker-error': [{ url: string; message: string }];
  /** A tracker answered with a `warning message` (the announce still counted). */
  'tracker-warning': [{ url: string; message: string }];
  /** Piece `index` passed its SHA-1 check and is written to disk. */
  'piece-verified': [{ index: number }];
  /** Piece `index` failed its SHA-1 check; `peers` sent its blocks. It is downloaded again. */
  'piece-failed': [{ index: number; peers: string[] }];
  /** With `trace` only: one peer-wire message, sent (`out`) or received (`in`). */
  wire: [{ peer: string; direction: 'in' | 'out'; message: Message }];
  /** Every piece is verified on disk. A seeding session keeps running; otherwise call `stop()`. */
  done: [];
  /**
   * The fatal failure that stopped the download (such as a full disk:
   * `LODESTONE_ERR_DISK_FULL`; see `failure`), at most once. Bad peers never cause it.
   */
  error: [Error];
  /**
   * A programming error caught at a boundary (a peer's message handler, a timer, a tracker
   * callback), Lodestone's or a listener's: it ended only that connection or round. Not the
   * peer's fault and not expected; report it. `peer` is the connection it ended, if any.
   */
  'internal-error': [InternalErrorInfo];
}

export interface InternalErrorInfo {
  error: Error;
  /** The peer ("host:port") whose connection the error ended, if it happened in one. */
  peer?: string;
}
