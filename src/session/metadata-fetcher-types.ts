import type { PeerAddress } from '../address.js';
import type { Clock } from '../clock.js';
import type { MagnetLink } from '../metainfo/types.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import type { AnnounceResponse, TrackerClient } from '../tracker/types.js';
import type { Message } from '../wire/types.js';
import type { SessionDht } from './dht-torrent.js';
import type { MetadataPeerOutcome } from './metadata-attempt.js';

// The MetadataFetcher's options, events and per-peer record (kept apart to keep the fetcher short).

/** The timers the fetcher uses (a {@link Clock} without its reading); tests pass a fake clock. */
export type MetadataFetcherTimers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

export interface MetadataFetcherOptions {
  link: MagnetLink;
  peerId: Buffer;
  port: number;
  bindAddress?: string;
  /** @default 30 */
  maxPeers?: number;
  /**
   * A peer with metadata requests in flight that answers none of them for this long is
   * dropped and its blocks are asked of other peers (a silent solo peer loses its turn too).
   * @default 8000
   */
  blockTimeoutMs?: number;
  /**
   * A connected peer that sends no extension handshake (BEP 10) for this long is dropped.
   * @default 10000
   */
  extensionHandshakeTimeoutMs?: number;
  /**
   * The fetch fails with LODESTONE_ERR_METADATA after this long without progress, where
   * progress is a metadata block arriving or a peer offering the metadata for the first time
   * (an address not seen offering it before). The error's message says what was tried.
   * `0` or `Infinity` waits forever. @default 300000 (5 minutes)
   */
  metadataTimeoutMs?: number;
  /** Milliseconds, the same clock as `timers`. @default Date.now */
  now?: () => number;
  /** @default unref()'d global setTimeout / clearTimeout */
  timers?: MetadataFetcherTimers;
  /** Metadata blocks in flight per peer. @default 16 */
  requestsPerPeer?: number;
  useTrackers?: boolean;
  /** Peers to ask besides the magnet's `x.pe` addresses (e.g. `--peer`). */
  peers?: PeerAddress[];
  createTrackerClient?: (url: string) => TrackerClient;
  /** The client's DHT: get_peers lookups while fetching (a magnet with only `xt` needs it). */
  dht?: SessionDht;
  trace?: boolean;
}

export interface MetadataProgress {
  peers: number;
  peersWithMetadata: number;
  receivedBlocks: number;
  totalBlocks: number;
}

export interface MetadataFetcherEvents {
  progress: [MetadataProgress];
  'peer-connected': [{ address: string; direction: 'outbound' }];
  'peer-disconnected': [{ address: string; reason: string }];
  'tracker-response': [{ url: string; response: AnnounceResponse }];
  'tracker-error': [{ url: string; message: string }];
  'metadata-rejected': [{ peers: string[] }];
  /** A peer proven to have sent metadata that does not match the info-hash: dropped and its host banned. */
  'peer-banned': [{ address: string; reason: string }];
  wire: [{ peer: string; direction: 'in' | 'out'; message: Message }];
}

export interface MetadataPeer {
  connection: PeerConnection;
  remoteId: number | undefined;
  size: number | undefined;
  /** When the BitTorrent handshake completed (undefined before). */
  handshakeAt: number | undefined;
  /** The extension handshake arrived. */
  extended: boolean;
  /** Set when we drop the peer, for the summary; a remote close counts as 'closed'. */
  outcome: MetadataPeerOutcome | undefined;
}
