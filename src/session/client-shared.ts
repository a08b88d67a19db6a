import { systemClock } from '../clock.js';
import { asError, rethrowIfStrict, warnUnheard } from '../internal-errors.js';
import { req2Hash } from '../net/mse/crypto.js';
import { PeerBudget, pickDonor } from '../policy/peer-budget.js';
import { ReadCacheBudget } from '../storage/read-cache-budget.js';
import { AnnounceSpread } from './announce-spread.js';
import { SessionTicker } from './session-ticker.js';
import type { TorrentSessionOptions } from './session-types.js';
import { StartGate } from './start-gate.js';
import type { TorrentSession } from './torrent-session.js';

/** Start-up checks at once: enough to keep the hash workers and the disk busy, few enough to bound memory. */
export const START_CHECKS_AT_ONCE = 8;

/** Default `readCacheBytes` of a client: one bound for all its torrents. */
export const DEFAULT_READ_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * What a client's torrents share so that 1,000 of them cost about what one does: one connection
 * budget (global and per-torrent caps, fair share), one read-cache bound in bytes, one
 * one-second tick, and the index of torrents by MSE's req2 hash. See docs/scale.md.
 */
export class ClientShared {
  readonly peerBudget: PeerBudget;
  readonly readCacheBudget: ReadCacheBudget;
  readonly ticker = new SessionTicker(systemClock, (error) => reportTickError(error));
  /** Torrents checking their files at once (start-up check), the others wait their turn. */
  readonly startGate = new StartGate(START_CHECKS_AT_ONCE);
  /** Torrents' first announces, 20 per 500 ms (Transmission's pace). */
  readonly announceSpread = new AnnounceSpread(systemClock);
  /** The sessions by MSE's HASH('req2', info-hash), hex: an encrypted handshake names its torrent so. */
  readonly #byReq2 = new Map<string, TorrentSession>();
  #untickShare: (() => void) | undefined;

  constructor(options: { maxPeers?: number; maxPeersPerTorrent?: number; readCacheBytes?: number }) {
    this.peerBudget = new PeerBudget({
      ...(options.maxPeers !== undefined ? { global: options.maxPeers } : {}),
      ...(options.maxPeersPerTorrent !== undefined ? { perTorrent: options.maxPeersPerTorrent } : {}),
    });
    this.readCacheBudget = new ReadCacheBudget(options.readCacheBytes ?? DEFAULT_READ_CACHE_BYTES);
  }

  /** The options every session of the client gets. */
  sessionOptions(): Pick<
    TorrentSessionOptions,
    'peerBudget' | 'readCacheBudget' | 'ticker' | 'startGate' | 'announceSpread'
  > {
    return {
      peerBudget: this.peerBudget,
      readCacheBudget: this.readCacheBudget,
      ticker: this.ticker,
      startGate: this.startGate,
      announceSpread: this.announceSpread,
    };
  }

  added(session: TorrentSession): void {
    this.#byReq2.set(req2Hash(session.infoHash).toString('hex'), session);
    this.#untickShare ??= this.ticker.add(() => this.#shareSlots());
  }

  removed(session: TorrentSession): void {
    this.#byReq2.delete(req2Hash(session.infoHash).toString('hex'));
    if (this.#byReq2.size > 0) return;
    this.#untickShare?.();
    this.#untickShare = undefined;
  }

  /** The info-hash whose req2 hash is `req2` (MSE), in one map lookup rather than a SHA-1 per torrent. */
  lookupReq2(req2: Uint8Array): Buffer | undefined {
    return this.#byReq2.get(Buffer.from(req2).toString('hex'))?.infoHash;
  }

  close(): void {
    this.#byReq2.clear();
    this.ticker.close();
    this.announceSpread.close();
    this.#untickShare = undefined;
  }

  /**
   * The fair-share rule (PeerBudget, rule 2), once a second: with the global cap full and a
   * torrent below its fair share wanting peers, the torrent with the most peers gives one up.
   */
  #shareSlots(): void {
    if (!this.peerBudget.full) return;
    const sessions = [...this.#byReq2.values()];
    const donor = pickDonor(
      this.peerBudget,
      sessions.map((session) => ({ peers: session.peers.size, wantsMore: session.wantsMorePeers })),
    );
    if (donor >= 0) sessions[donor]!.yieldPeer();
  }
}

/** The sessions' ticks are guarded by each session; what reaches here is the client's own bug. */
function reportTickError(thrown: unknown): void {
  const error = asError(thrown);
  warnUnheard('internal-error', error, 'client tick');
  rethrowIfStrict(error);
}
