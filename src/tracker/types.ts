import type { PeerAddress } from '../address.js';

export type AnnounceEvent = 'started' | 'completed' | 'stopped';

export interface AnnounceRequest {
  infoHash: Buffer;
  peerId: Buffer;
  /** Our listen port (0 when we do not listen). */
  port: number;
  uploaded: number;
  downloaded: number;
  left: number;
  event?: AnnounceEvent;
  /** @default 50 */
  numwant?: number;
  /** Random per-session key (BEP 7 / BEP 15), so trackers recognise us across IP changes. */
  key: number;
  signal?: AbortSignal;
}

export interface AnnounceResponse {
  /** Seconds until the next regular announce. */
  interval: number;
  minInterval?: number;
  peers: PeerAddress[];
  seeders?: number;
  leechers?: number;
  warning?: string;
  trackerId?: string;
}

/** One tracker URL, HTTP(S) or UDP. */
export interface TrackerClient {
  readonly url: string;
  announce(request: AnnounceRequest): Promise<AnnounceResponse>;
  /** Frees sockets; pending announces reject with an abort error. */
  close(): void;
}
