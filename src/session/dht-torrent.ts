/**
 * One torrent's DHT lookups (BEP 5): a get_peers lookup when it starts and then on a schedule
 * while it wants peers, with announce_peer when we listen. Never used for a private torrent
 * (BEP 27): the client does not give those a {@link SessionDht}.
 */
import type { PeerAddress } from '../address.js';
import type { Clock } from '../clock.js';

/** What a torrent (or a magnet's metadata fetch) needs of the client's DHT. */
export interface SessionDht {
  /** Our DHT (UDP) port, sent to peers that set the DHT reserved bit (BEP 5 `port` message). */
  readonly port: number;
  /** A peer's `port` message: that node may be pinged into the routing table. */
  nodeHeard(host: string, port: number): void;
  /** Starts finding peers for `infoHash`; returns the function that stops it. */
  track(infoHash: Uint8Array, hooks: DhtTrackHooks): () => void;
}

export interface DhtTrackHooks {
  /** Our TCP listening port to announce; 0: look up only (no listener, or a metadata fetch). */
  announcePort: number;
  /** False stops further rounds (a finished download that does not seed). */
  wantsPeers(): boolean;
  /** Complete and serving: rounds are 15 min apart (announce only matters then). @default never */
  seeding?(): boolean;
  /** Peers a lookup found (already de-duplicated by the address book that receives them). */
  onPeers(peers: PeerAddress[]): void;
}

/** What a round runs on: the DHT service's lookup (announce when `port` > 0). */
export type DhtRound = (
  infoHash: Uint8Array,
  port: number,
  onPeers: (peers: PeerAddress[]) => void,
) => Promise<number>;

/**
 * Between rounds while downloading. libtorrent announces every 15 min (`dht_announce_interval`),
 * which keeps a seeder's entry alive (stores keep peers for 30 min or more); a downloader wants
 * new peers sooner, and one lookup is ~50–100 small datagrams, so 5 min while downloading.
 */
export const DHT_DOWNLOAD_INTERVAL_MS = 5 * 60_000;
/** Between rounds while seeding (announce only matters then): libtorrent's 15 minutes. */
export const DHT_SEED_INTERVAL_MS = 15 * 60_000;
/** After a round that found nobody while downloading (e.g. the table was still filling). */
export const DHT_RETRY_MS = 60_000;

/** Runs the rounds of one torrent on a clock; `stop` ends them (a running lookup finishes alone). */
export class DhtTorrentRounds {
  readonly #clock: Clock;
  readonly #round: DhtRound;
  readonly #infoHash: Uint8Array;
  readonly #hooks: DhtTrackHooks;
  #timer: unknown;
  #stopped = false;
  #running = false;
  /** Peers the last finished round found; undefined before the first one ends. */
  #lastFound: number | undefined;
  /** `again` came while a round ran: when it ends empty (or `again` said so), run another at once. */
  #againPending = false;
  #againEvenIfFound = false;

  constructor(clock: Clock, round: DhtRound, infoHash: Uint8Array, hooks: DhtTrackHooks) {
    this.#clock = clock;
    this.#round = round;
    this.#infoHash = infoHash;
    this.#hooks = hooks;
  }

  /** Runs a round now (call once the routing table holds a node). */
  start(): void {
    this.#run();
  }

  /**
   * The routing table grew (bootstrap ended): a round started on a nearly empty table may have
   * found nobody, so run one now unless the last round found peers (then the schedule stands).
   * `evenIfFound`: the first round ran on a table thinner than one bucket, so what it found (a
   * peer that announced to the one node it asked, maybe long gone) is no answer: run it again.
   */
  again(evenIfFound = false): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#againPending = true;
      this.#againEvenIfFound ||= evenIfFound;
      return;
    }
    if (!evenIfFound && this.#lastFound !== undefined && this.#lastFound > 0) return;
    this.#clock.clearTimeout(this.#timer);
    this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
  }

  #run(): void {
    if (this.#stopped || this.#running || !this.#hooks.wantsPeers()) return;
    this.#running = true;
    let found = 0;
    this.#round(this.#infoHash, this.#hooks.announcePort, (peers) => {
      found += peers.length;
      if (!this.#stopped) this.#hooks.onPeers(peers);
    })
      .catch(() => 0) // a failed round is retried like an empty one
      .then(() => {
        this.#running = false;
        this.#lastFound = found;
        if (this.#stopped) return;
        if (this.#againPending) {
          const evenIfFound = this.#againEvenIfFound;
          this.#againPending = false;
          this.#againEvenIfFound = false;
          if (found === 0 || evenIfFound) return this.#run();
        }
        const delay = this.#hooks.seeding?.()
          ? DHT_SEED_INTERVAL_MS
          : found === 0
            ? DHT_RETRY_MS
            : DHT_DOWNLOAD_INTERVAL_MS;
        this.#timer = this.#clock.setTimeout(() => this.#run(), delay);
      });
  }
}
