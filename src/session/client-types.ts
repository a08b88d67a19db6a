import type { PeerAddress } from '../address.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import type { ResumeStore } from '../storage/resume-store.js';
import type { Storage } from '../storage/types.js';
import type { TrackerClient } from '../tracker/types.js';
import type { DhtOptions } from './dht-service.js';
import type { FileChoice } from './file-selection.js';
import type { InternalErrorInfo, TorrentSession } from './torrent-session.js';

/** Options of a {@link Client}: identity, listening and limits shared by all its torrents. */
export interface ClientOptions {
  /** First port to listen on; 0 picks any free port; `false` disables listening. @default 6881 */
  port?: number | false;
  /** Address to listen on and to dial from (e.g. 127.0.0.2 in tests). */
  bindAddress?: string;
  /** Most peers connected at once per torrent. @default 50 */
  maxPeersPerTorrent?: number;
  /**
   * Most peers connected at once over all torrents (Transmission's `peer-limit-global`): dialling
   * stops and incoming peers are refused at it; once full, a torrent below its fair share (this
   * divided by the number of torrents) gets a slot from the torrent with the most peers. See
   * docs/scale.md. @default 200
   */
  maxPeers?: number;
  /** Bytes of pieces kept in memory for uploading, over all torrents (one LRU). @default 16 MiB */
  readCacheBytes?: number;
  /** SHA-1 worker threads. @default the number of cores minus one (at least one) */
  hashWorkers?: number;
  /** Our 20-byte peer id. @default `-LS<version>-` followed by 12 random printable characters */
  peerId?: Buffer;
  /**
   * Makes the tracker client for an announce URL (tests, custom transports).
   * @default HTTP or UDP by the URL's scheme, announcing from `bindAddress`
   */
  createTrackerClient?: (url: string) => TrackerClient;
  /**
   * Time a peer has to complete its handshake, on connections we accept and on those we dial;
   * a peer that dribbles it or says nothing is dropped then (slowloris). @default 10000
   */
  handshakeTimeoutMs?: number;
  /**
   * Protocol encryption (MSE/PE): `prefer` dials encrypted first and falls back to plaintext
   * (remembering per peer what worked) and accepts both; `require` uses RC4 only, both ways;
   * `allow` dials in plaintext first and accepts both; `disable` is plaintext only. @default 'prefer'
   */
  encryption?: EncryptionPolicy;
  /**
   * uTP (BEP 29): one UDP socket on the listener's address and port accepts uTP peers like TCP
   * ones, and peers are dialled over uTP first, over TCP too when uTP has not connected within a
   * second (the transport that worked is remembered per address). `false`: no UDP socket, TCP
   * only. @default true
   */
  utp?: boolean;
  /**
   * Fast resume: keep a record per torrent in this store (e.g. a {@link DirectoryResumeStore}),
   * so a torrent whose files have not changed since the last run starts without re-hashing. A
   * torrent added with `resume: false` neither reads nor writes one. See docs/resume.md.
   * @default none: every start checks every piece
   */
  resume?: ResumeStore;
  /**
   * The DHT (BEP 5, BEP 32 over IPv6 when the client listens on every address): a node on the
   * client's UDP socket (opened for it when `utp` is false) that finds peers of every public
   * torrent and magnet (never of a private one, BEP 27) and announces those we serve. It starts
   * at `listen`. Off unless asked: a library client sends no DHT traffic by default, and joins
   * only through the `bootstrap` nodes you give (and the saved table). @default false
   */
  dht?: false | DhtOptions;
  /**
   * Download limit for all torrents together, in bytes per second, counting payload and protocol
   * overhead (docs/rate-limits.md); change it live with `setLimits`. @default 0 (unlimited)
   */
  downloadLimit?: number;
  /** Upload limit for all torrents together, as `downloadLimit`. @default 0 (unlimited) */
  uploadLimit?: number;
}

/** Options of {@link Client.add}: where one torrent's files go and how it finds peers. */
export interface AddTorrentOptions {
  /** Folder the files are written to (a multi-file torrent's top folder is created inside it). */
  path: string;
  /** Keep running after completion, serving peers, until `stop()`. @default false */
  seed?: boolean;
  /** Peers to dial at once, besides those the trackers return (e.g. a magnet's `x.pe`). */
  peers?: PeerAddress[];
  /** Announce to the torrent's trackers. @default true */
  useTrackers?: boolean;
  /**
   * Check the files already in `path` before downloading, so an interrupted download resumes
   * with what is there. `false` assumes nothing is there. @default true
   */
  checkExisting?: boolean;
  /** Emit a `wire` event for every peer-wire message sent and received (`--trace`). @default false */
  trace?: boolean;
  /** Where pieces are read and written. @default a FileStorage on `path` */
  storage?: Storage;
  /** Peers unchoked at once (plus one optimistic unchoke). @default 4 */
  uploadSlots?: number;
  /** Use the client's resume store for this torrent (read and write its record). @default true */
  resume?: boolean;
  /** Resume record saves while pieces arrive, at most this often. @default 30000 */
  resumeSaveIntervalMs?: number;
  /**
   * This torrent's own download limit in bytes per second (the client's applies too); change
   * it live with `session.setLimits`. @default 0 (unlimited)
   */
  downloadLimit?: number;
  /** This torrent's own upload limit in bytes per second. @default 0 (unlimited) */
  uploadLimit?: number;
  /** Which files to download, one choice per file (see docs/file-selection.md). @default all, normal */
  files?: readonly FileChoice[];
  /** Download pieces in order, each wanted file's first and last piece first. @default false */
  sequential?: boolean;
  /** Part file for wanted pieces' bytes in unwanted files. @default `<path>/.<infohash hex>.parts` */
  partFile?: string;
}

export interface ClientEvents {
  /**
   * A torrent's fatal failure (a full disk, a file that cannot be written): its download
   * stopped. The session stays in the client (it still serves what it has) until you
   * `remove` it or `close` the client; `session.failure` keeps the error.
   */
  error: [error: Error, session: TorrentSession];
  /** A programming error caught at a boundary in one of the torrents (see TorrentSessionEvents). */
  'internal-error': [info: InternalErrorInfo & { session: TorrentSession }];
  /** The DHT finished bootstrapping; `nodes` is the routing table's size then. */
  'dht-ready': [info: { nodes: number }];
  /** The DHT goes on, but something is worth saying (a corrupt state file ignored, a bootstrap host not found). */
  'dht-warning': [info: { message: string }];
}
