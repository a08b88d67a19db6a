import { type Clock, systemClock } from '../clock.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { BandwidthChain, BandwidthChannel, type BandwidthPriority, checkRate } from '../policy/bandwidth.js';

/** Rate limits in bytes per second; undefined or 0 = unlimited. */
export interface RateLimits {
  download?: number | undefined;
  upload?: number | undefined;
}

/** A torrent's limits, and whether the client's limits apply to it too. */
export interface TorrentRateLimits extends RateLimits {
  /** `false` exempts the torrent from the client-wide limits (Transmission's `honorsSessionLimits`). @default true */
  honorsClientLimits?: boolean;
  /** Its share of the client's limits against other torrents' (see BandwidthChannel). @default 'normal' */
  priority?: BandwidthPriority;
}

/** The client-wide channels a torrent pays into. */
export interface ClientChannels {
  download: BandwidthChannel;
  upload: BandwidthChannel;
}

/** The client-wide channels, one per direction, shared by every torrent that honours them. */
export class ClientBandwidth implements ClientChannels {
  readonly download: BandwidthChannel;
  readonly upload: BandwidthChannel;

  constructor(limits: RateLimits = {}, clock: Clock = systemClock) {
    this.download = new BandwidthChannel(clock, checkRate(limits.download, 'downloadLimit'));
    this.upload = new BandwidthChannel(clock, checkRate(limits.upload, 'uploadLimit'));
  }

  /** Changes the limits given; a direction left out keeps its limit. */
  setLimits(limits: RateLimits): void {
    const download = 'download' in limits ? checkRate(limits.download, 'download limit') : undefined;
    const upload = 'upload' in limits ? checkRate(limits.upload, 'upload limit') : undefined;
    if (download !== undefined) this.download.setRate(download);
    if (upload !== undefined) this.upload.setRate(upload);
  }
}

/**
 * A torrent's channels and the chains its connections pay into: the torrent's own limit, then
 * the client's (see docs/rate-limits.md).
 */
export class TorrentBandwidth {
  readonly #client: ClientChannels | undefined;
  readonly #download: BandwidthChannel;
  readonly #upload: BandwidthChannel;
  readonly #downloadChain: BandwidthChain;
  readonly #uploadChain: BandwidthChain;
  #honorsClient = true;

  constructor(
    client: ClientChannels | undefined,
    limits: TorrentRateLimits = {},
    clock: Clock = systemClock,
  ) {
    this.#client = client;
    this.#download = new BandwidthChannel(clock, checkRate(limits.download, 'downloadLimit'));
    this.#upload = new BandwidthChannel(clock, checkRate(limits.upload, 'uploadLimit'));
    this.#downloadChain = new BandwidthChain([]);
    this.#uploadChain = new BandwidthChain([]);
    this.#honorsClient = limits.honorsClientLimits ?? true;
    if (limits.priority !== undefined) this.#setPriority(limits.priority);
    this.#link();
  }

  get downloadLimit(): number {
    return this.#download.rate;
  }

  get uploadLimit(): number {
    return this.#upload.rate;
  }

  get honorsClientLimits(): boolean {
    return this.#honorsClient;
  }

  /** Changes the limits given; what is left out keeps its value. */
  setLimits(limits: TorrentRateLimits): void {
    const download = 'download' in limits ? checkRate(limits.download, 'download limit') : undefined;
    const upload = 'upload' in limits ? checkRate(limits.upload, 'upload limit') : undefined;
    if (download !== undefined) this.#download.setRate(download);
    if (upload !== undefined) this.#upload.setRate(upload);
    if (limits.priority !== undefined) this.#setPriority(limits.priority);
    if (limits.honorsClientLimits !== undefined) {
      this.#honorsClient = limits.honorsClientLimits;
      this.#link();
    }
  }

  get priority(): BandwidthPriority {
    return this.#downloadChain.priority;
  }

  #setPriority(priority: BandwidthPriority): void {
    this.#downloadChain.setPriority(priority);
    this.#uploadChain.setPriority(priority);
  }

  /** Makes a connection pay into this torrent's chains. */
  attach(connection: PeerConnection): void {
    connection.setThrottles({ download: this.#downloadChain, upload: this.#uploadChain });
  }

  #link(): void {
    const client = this.#honorsClient ? this.#client : undefined;
    this.#downloadChain.setChannels(client ? [this.#download, client.download] : [this.#download]);
    this.#uploadChain.setChannels(client ? [this.#upload, client.upload] : [this.#upload]);
  }
}
