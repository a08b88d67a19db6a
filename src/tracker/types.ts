import type { PeerAddress } from '../address.js';

/** The `event` of an announce: the first (`started`), on completion, and the last (`stopped`). */
export type AnnounceEvent = 'started' | 'completed' | 'stopped';

/** What one announce tells the tracker (BEP 3 query fields). */
export interface AnnounceRequest {
  /** The torrent's 20-byte info-hash. */
  infoHash: Buffer;
  /** Our 20-byte peer id. */
  peerId: Buffer;
  /** Our listen port (0 when we do not listen). */
  port: number;
  /** Bytes uploaded since `started`. */
  uploaded: number;
  /** Bytes downloaded since `started`. */
  downloaded: number;
  /** Bytes still missing (0 for a seed). */
  left: number;
  /** Absent on a regular re-announce. */
  event?: AnnounceEvent;
  /** Peers asked for. @default 50 */
  numwant?: number;
  /** Random per-session key (BEP 7 / BEP 15), so trackers recognise us across IP changes. */
  key: number;
  /** Aborts the announce (its promise rejects with `LODESTONE_ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** A tracker's answer to an announce (the payload of the session's `tracker-response`). */
export interface AnnounceResponse {
  /** Seconds until the next regular announce. */
  interval: number;
  /** Seconds the tracker asks us to wait at least before announcing again, when it says. */
  minInterval?: number;
  /** Peers handed out (compact BEP 23 and IPv6 BEP 7 forms decoded). */
  peers: PeerAddress[];
  /** Peers with the whole torrent (`complete`), when the tracker says. */
  seeders?: number;
  /** Peers still downloading (`incomplete`), when the tracker says. */
  leechers?: number;
  /** The tracker's `warning message`: the announce still counted. */
  warning?: string;
  /** `tracker id`, sent back on later announces (HTTP). */
  trackerId?: string;
}

/** One tracker URL, HTTP(S) or UDP. */
export interface TrackerClient {
  /** The announce URL. */
  readonly url: string;
  /** One announce; rejects with a `TrackerError` (or an abort error). */
  announce(request: AnnounceRequest): Promise<AnnounceResponse>;
  /** Frees sockets; pending announces reject with an abort error. */
  close(): void;
}
