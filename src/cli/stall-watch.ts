/**
 * Notices a download that is getting nowhere for lack of peers: no connected peer and
 * no tracker answer for `afterMs`, and says why in one line ("no peers yet: 2 trackers
 * failed (…); DHT: searching (120 nodes, 1 lookup running), no peers found; PEX: needs a
 * connected peer"). It never stops the download (trackers may come back); it only explains.
 * Pure: fed with session events and stats, read with `check`; the clock is injected.
 */
export interface StallWatchOptions {
  /** Quiet this long before a stall is reported. @default 60000 */
  afterMs?: number;
  /** Trackers the session announces to (0 when it has none or they are turned off). */
  trackers: number;
  /** True when the user turned trackers off (--no-trackers). */
  trackersOff: boolean;
  /**
   * The DHT for this torrent: `on`, `off` (--no-dht) or `private` (BEP 27: never for a private
   * torrent). Unset: the DHT is not mentioned (as before the DHT existed).
   */
  dht?: 'on' | 'off' | 'private';
  /** PEX for this torrent (`private`: BEP 27 forbids it). Unset: not mentioned. */
  pex?: 'on' | 'private';
  now?: () => number;
}

/** The client's DHT when the stall is checked (`Client.dhtStats`). */
export interface StallDhtSnapshot {
  /** Nodes in the routing table. */
  nodes: number;
  /** Lookups running now (this torrent's and the table's own). */
  activeLookups: number;
}

export interface Stall {
  /** `no-peers`: no address known at all; `none-connected`: addresses known, none connects. */
  kind: 'no-peers' | 'none-connected';
  reason: string;
}

export class StallWatch {
  readonly #afterMs: number;
  readonly #trackers: number;
  readonly #trackersOff: boolean;
  readonly #dht: StallWatchOptions['dht'];
  readonly #pex: StallWatchOptions['pex'];
  readonly #now: () => number;
  readonly #learned = { dht: 0, pex: 0 };
  /** Last moment something good happened: start, a tracker answer, a connected peer. */
  #lastGoodAt: number;
  readonly #trackerErrors = new Map<string, string>();
  #trackerAnswers = 0;
  #lastDisconnect: string | undefined;

  constructor(options: StallWatchOptions) {
    this.#afterMs = options.afterMs ?? 60_000;
    this.#trackers = options.trackers;
    this.#trackersOff = options.trackersOff;
    this.#dht = options.dht;
    this.#pex = options.pex;
    this.#now = options.now ?? Date.now;
    this.#lastGoodAt = this.#now();
  }

  trackerAnswered(url: string): void {
    this.#trackerErrors.delete(url);
    this.#trackerAnswers++;
    this.#lastGoodAt = this.#now();
  }

  trackerFailed(url: string, message: string): void {
    this.#trackerErrors.set(url, message);
  }

  /** New addresses learned from the DHT or through PEX (the session's `peers-learned`). */
  peersLearned(source: 'dht' | 'pex', count: number): void {
    this.#learned[source] += count;
  }

  peerDisconnected(reason: string): void {
    this.#lastDisconnect = reason;
  }

  /**
   * Undefined while all is well; else why no data can come: called with the current
   * number of connected peers and of addresses known.
   */
  check(stats: { peers: number; knownPeers: number; dht?: StallDhtSnapshot | undefined }): Stall | undefined {
    const now = this.#now();
    if (stats.peers > 0) {
      this.#lastGoodAt = now;
      return undefined;
    }
    if (now - this.#lastGoodAt < this.#afterMs) return undefined;
    const quiet = formatQuiet(now - this.#lastGoodAt);
    const discovery = this.#discoveryStatus(stats.dht, stats.peers);
    if (stats.knownPeers === 0) {
      return { kind: 'no-peers', reason: `no peers yet (${quiet}): ${this.#trackerStatus()}${discovery}` };
    }
    const last = this.#lastDisconnect ? ` (last: ${this.#lastDisconnect})` : '';
    return {
      kind: 'none-connected',
      reason: `no peers connected (${quiet}): ${stats.knownPeers} known, none reachable${last}${discovery}`,
    };
  }

  /** What the DHT and PEX are doing, e.g. "; DHT: searching (120 nodes, 1 lookup running), no peers found". */
  #discoveryStatus(dht: StallDhtSnapshot | undefined, connected: number): string {
    const parts: string[] = [];
    if (this.#dht === 'off') parts.push('DHT: turned off');
    else if (this.#dht === 'private') parts.push('DHT: not used (private torrent)');
    else if (this.#dht === 'on') {
      const found = this.#learned.dht;
      const peers = found > 0 ? `${found} peer${found === 1 ? '' : 's'} found` : 'no peers found';
      if (!dht || dht.nodes === 0) parts.push(`DHT: no node reached yet, ${peers}`);
      else {
        const running = dht.activeLookups;
        const activity =
          running > 0
            ? `searching (${dht.nodes} nodes, ${running} lookup${running === 1 ? '' : 's'} running)`
            : `${dht.nodes} nodes`;
        parts.push(`DHT: ${activity}, ${peers}`);
      }
    }
    if (this.#pex === 'private') parts.push('PEX: not used (private torrent)');
    else if (this.#pex === 'on') {
      const learned = this.#learned.pex;
      parts.push(
        learned > 0
          ? `PEX: ${learned} peer${learned === 1 ? '' : 's'} learned`
          : connected === 0
            ? 'PEX: needs a connected peer'
            : 'PEX: no peers learned',
      );
    }
    return parts.length > 0 ? `; ${parts.join('; ')}` : '';
  }

  #trackerStatus(): string {
    if (this.#trackersOff) return 'trackers are turned off';
    if (this.#trackers === 0) return 'the torrent has no trackers';
    const failed = this.#trackerErrors.size;
    const reasons = [...new Set(this.#trackerErrors.values())].slice(0, 3).join('; ');
    const parts: string[] = [];
    if (failed > 0)
      parts.push(
        `${failed} of ${this.#trackers} tracker${this.#trackers === 1 ? '' : 's'} failed (${reasons})`,
      );
    if (failed < this.#trackers) {
      parts.push(
        this.#trackerAnswers > 0
          ? 'trackers answered with no peers'
          : `${this.#trackers - failed} not answering`,
      );
    }
    return parts.join(', ');
  }
}

function formatQuiet(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
}
