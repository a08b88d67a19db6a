/**
 * The data model of a discovery probe (`lodestone doctor`): what each peer source said and what
 * became of each peer it named. Sources are a list with a `kind`, so a new source (the DHT, PEX)
 * is one more entry, not a new shape. Everything here is plain data (JSON-serialisable).
 */

/** Kinds of peer source. `pex`: the lists the probed peers sent (ut_pex), never for a private torrent. */
export type DoctorSourceKind = 'tracker' | 'magnet-peers' | 'manual-peers' | 'dht' | 'pex';

/**
 * What became of a source:
 * - `answered`: it gave an answer (a tracker's announce response; a list of addresses)
 * - `failed`: it gave an error (`error` says which)
 * - `no-answer`: still nothing when the probe ended (its time ran out)
 * - `not-available`: this version of Lodestone does not measure it: it did NOT run (`note` says so)
 * - `not-used`: it exists but was not used here (`note` says why: `--no-dht`, a private torrent)
 */
export type DoctorSourceStatus = 'answered' | 'failed' | 'no-answer' | 'not-available' | 'not-used';

export interface DoctorSource {
  kind: DoctorSourceKind;
  /** The tracker URL, or a name such as `x.pe`, `--peer`, `DHT`. */
  label: string;
  status: DoctorSourceStatus;
  /** Addresses this source gave (before de-duplication across sources). */
  peers: number;
  /** Why it failed (`failed`), as the source said it (remote text: escape before printing). */
  error?: string;
  /** Trackers: the tier (0-based, BEP 12) the URL is in. */
  tier?: number;
  /** Trackers: the re-announce interval the tracker asked for, in seconds. */
  intervalSeconds?: number;
  /** Trackers: seeders and leechers the tracker counts, when it says. */
  seeders?: number;
  leechers?: number;
  /** Trackers: the tracker's warning message. */
  warning?: string;
  /** Trackers: time from the announce to its answer or failure, in ms. */
  latencyMs?: number;
  /** `not-used` / `not-available`: why it did not run (our text). */
  note?: string;
  /** DHT: nodes in the routing table when the lookup started (after bootstrap). */
  nodesKnown?: number;
  /** DHT: nodes that answered a get_peers query of the lookup. */
  nodesReached?: number;
  /** DHT: get_peers queries the lookup sent. */
  queries?: number;
  /** DHT: lookup rounds (hops: the deepest answering node's depth + 1). */
  rounds?: number;
}

/**
 * Why a peer could not be probed, a small closed set:
 * - `refused`: the connection was refused (nothing listens there)
 * - `timeout`: no TCP/uTP connection, or no handshake, in time
 * - `dropped`: the peer closed or reset the connection before or right after the handshake
 * - `wrong-info-hash`: the peer answered for another torrent
 * - `handshake-failed`: the peer's BitTorrent handshake was malformed (another protocol)
 * - `encryption-failed`: the encryption (MSE/PE) handshake failed and no other way was allowed
 * - `not-tried`: the probe's time ran out before this peer's turn
 * - `other`: anything else (`message` says what)
 */
export type PeerFailure =
  | 'refused'
  | 'timeout'
  | 'dropped'
  | 'wrong-info-hash'
  | 'handshake-failed'
  | 'encryption-failed'
  | 'not-tried'
  | 'other';

export const PEER_FAILURES: readonly PeerFailure[] = [
  'refused',
  'timeout',
  'dropped',
  'wrong-info-hash',
  'handshake-failed',
  'encryption-failed',
  'not-tried',
  'other',
];

export interface DoctorPeer {
  /** `host:port` (`[v6]:port`). */
  address: string;
  /** Labels of the sources that named it (tracker URLs, `x.pe`, `--peer`, `DHT`, `PEX`). */
  sources: string[];
  /** The transport that connected, when one did. */
  transport?: 'tcp' | 'utp';
  /** The BitTorrent handshake completed (same info-hash). */
  handshake: boolean;
  /** What the connection carried, once connected: `rc4` or `plain`. */
  encryption?: 'plain' | 'rc4';
  /** The client the peer names in its extension handshake (`v`): remote text. */
  client?: string;
  /** Magnets: the peer offers the metadata (ut_metadata with a `metadata_size`); undefined: unknown. */
  hasMetadata?: boolean;
  /** Pieces the peer has, when it said (bitfield, have, have-all/have-none). */
  piecesHave?: number;
  /** The torrent's piece count (torrents only: a magnet's is unknown without its metadata). */
  pieceCount?: number;
  /** It has every piece (have-all, or a full bitfield of a torrent). */
  seeder?: boolean;
  /** Set when the probe failed: why. */
  failure?: PeerFailure;
  /** The failure as the connection reported it (may quote remote text). */
  message?: string;
  /** Time from the start of the dial to the end of the probe of this peer, in ms. */
  elapsedMs?: number;
}

export interface DoctorReport {
  /** Hex info-hash (v1). */
  infoHash: string;
  /** The torrent's name (a magnet's `dn`, if any). */
  name?: string;
  /** What was probed. */
  kind: 'torrent' | 'magnet';
  /** Torrents: piece count. */
  pieceCount?: number;
  /** How long the probe ran, in ms. */
  durationMs: number;
  /** The time bound the probe was given, in ms. */
  timeLimitMs: number;
  sources: DoctorSource[];
  peers: DoctorPeer[];
  /**
   * Torrents: pieces at least one connected peer has (the swarm's reachable availability).
   * Undefined for magnets.
   */
  piecesAvailable?: number;
}

/** Counts over the peers of a report. */
export interface DoctorPeerCounts {
  found: number;
  /** Handshake completed and the peer did not drop us while probed. */
  connected: number;
  /** Connected peers with every piece. */
  seeders: number;
  /** Connected peers offering the metadata. */
  withMetadata: number;
  failures: Record<PeerFailure, number>;
}

export function countPeers(report: DoctorReport): DoctorPeerCounts {
  const failures = Object.fromEntries(PEER_FAILURES.map((f) => [f, 0])) as Record<PeerFailure, number>;
  let connected = 0;
  let seeders = 0;
  let withMetadata = 0;
  for (const peer of report.peers) {
    if (peer.failure) {
      failures[peer.failure]++;
      continue;
    }
    if (peer.handshake) connected++;
    if (peer.seeder) seeders++;
    if (peer.hasMetadata) withMetadata++;
  }
  return { found: report.peers.length, connected, seeders, withMetadata, failures };
}
