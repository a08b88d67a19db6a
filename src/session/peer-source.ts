import { LodestoneError } from '../errors.js';

export interface PeerSources {
  /** 'torrent' or 'magnet link', for the message. */
  kind: 'torrent' | 'magnet link';
  /** Tracker URLs the torrent or magnet lists. */
  trackers: number;
  /** False when trackers are turned off (`useTrackers: false`, `--no-trackers`). */
  useTrackers: boolean;
  /** Peer addresses known up front (`x.pe`, `--peer`, `peers`). */
  peers: number;
  /** The DHT is on (it can find peers of any public torrent). @default false */
  dht?: boolean;
}

/**
 * The one rule for "is there any way to find peers?": a usable tracker, a known peer
 * address, or the DHT (PEX needs a first peer; LSD is not supported). Returns the LODESTONE_ERR_NO_PEER_SOURCE
 * error to throw at once, or undefined when there is a source.
 */
export function noPeerSourceError(sources: PeerSources): LodestoneError | undefined {
  if (sources.dht === true || sources.peers > 0 || (sources.useTrackers && sources.trackers > 0))
    return undefined;
  const trackers =
    sources.trackers === 0
      ? `the ${sources.kind} has no trackers`
      : `its ${sources.trackers === 1 ? 'tracker is' : `${sources.trackers} trackers are`} turned off (--no-trackers)`;
  const peers =
    sources.kind === 'magnet link' ? 'no peer addresses (x.pe or --peer)' : 'no peer addresses (--peer)';
  return new LodestoneError(
    'LODESTONE_ERR_NO_PEER_SOURCE',
    `no way to find peers: ${trackers}, ${peers} were given, and the DHT is off (--no-dht)`,
  );
}
