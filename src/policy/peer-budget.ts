/**
 * One connection budget for a process with many torrents: a global cap over all torrents
 * (Transmission's `peer-limit-global`) on top of the per-torrent cap (`peer-limit-per-torrent`).
 *
 * The rule, fair among torrents:
 * 1. A torrent may open a connection (dial or accept) while it is under the per-torrent cap and
 *    the process is under the global cap: free slots are first come, first served.
 * 2. Once the global cap is full, a torrent under its fair share (the global cap divided by the
 *    number of torrents, at least 1) that has addresses to try gets a slot from the torrent with
 *    the most peers above its fair share: that torrent closes one peer (`pickDonor`). So a torrent
 *    with no peers is served before one with many, and no torrent keeps more than its share while
 *    another that could connect is starved.
 * Lowering a cap closes nothing by itself: connections end as they do (rotation, peers leaving)
 * and no new ones are opened above the cap.
 *
 * Pure: counts in, decisions out. The client keeps the counts (`opened`/`closed`) exact.
 */
import { LodestoneError } from '../errors.js';

/** The two caps. */
export interface PeerLimits {
  /** Most peers connected over all torrents. */
  global: number;
  /** Most peers connected per torrent. */
  perTorrent: number;
}

/** Default global cap: Transmission's `peer-limit-global`. */
export const DEFAULT_GLOBAL_PEERS = 200;
/** Default per-torrent cap (`maxPeersPerTorrent`). */
export const DEFAULT_PEERS_PER_TORRENT = 50;

/** The budget's counter: connections open now over all torrents. */
export class PeerBudget {
  #limits: PeerLimits;
  #total = 0;

  constructor(limits: Partial<PeerLimits> = {}) {
    this.#limits = {
      global: checkLimit(limits.global ?? DEFAULT_GLOBAL_PEERS),
      perTorrent: checkLimit(limits.perTorrent ?? DEFAULT_PEERS_PER_TORRENT),
    };
  }

  get limits(): PeerLimits {
    return { ...this.#limits };
  }

  /** Changes either cap, live (connections above a lowered cap are not closed). */
  setLimits(limits: Partial<PeerLimits>): void {
    this.#limits = {
      global: checkLimit(limits.global ?? this.#limits.global),
      perTorrent: checkLimit(limits.perTorrent ?? this.#limits.perTorrent),
    };
  }

  /** Connections open now over all torrents. */
  get total(): number {
    return this.#total;
  }

  opened(): void {
    this.#total++;
  }

  closed(): void {
    this.#total = Math.max(0, this.#total - 1);
  }

  /**
   * The most connections a torrent that has `own` now may have: its count plus the free global
   * slots, at most its cap (rule 1): `torrentCap` when the torrent has one of its own (it may be
   * above or below the per-torrent cap, which is only the default), else the per-torrent cap. A
   * torrent is full when `own >= ceiling(own)`.
   */
  ceiling(own: number, torrentCap: number = this.#limits.perTorrent): number {
    const free = Math.max(0, this.#limits.global - this.#total);
    return Math.min(torrentCap, own + free);
  }

  /** The fair share of one torrent among `torrents`: the global cap divided evenly, at least 1. */
  fairShare(torrents: number): number {
    return Math.max(1, Math.floor(this.#limits.global / Math.max(1, torrents)));
  }

  /** Whether the global cap is full (rule 2 applies). */
  get full(): boolean {
    return this.#total >= this.#limits.global;
  }
}

/** One torrent as rule 2 sees it. */
export interface TorrentPeerCount {
  /** Connections open now. */
  peers: number;
  /** It has addresses to try and wants more peers (a starved torrent can use a slot). */
  wantsMore: boolean;
}

/**
 * Rule 2: when the global cap is full, the index of the torrent that should close one peer so a
 * starved torrent (under its fair share, wanting more) gets a slot, or -1 when none should: the
 * cap is not full, no torrent is starved, or no torrent is above its fair share. The donor is the
 * torrent with the most peers (the first of equals); the starved torrent is not its own donor.
 */
export function pickDonor(budget: PeerBudget, torrents: readonly TorrentPeerCount[]): number {
  if (!budget.full || torrents.length === 0) return -1;
  const share = budget.fairShare(torrents.length);
  if (!torrents.some((t) => t.wantsMore && t.peers < share)) return -1;
  let donor = -1;
  for (let i = 0; i < torrents.length; i++) {
    const peers = torrents[i]!.peers;
    if (peers > share && (donor === -1 || peers > torrents[donor]!.peers)) donor = i;
  }
  return donor;
}

function checkLimit(value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new LodestoneError('LODESTONE_ERR_USAGE', `a peer limit must be an integer ≥ 1, not ${value}`);
  return value;
}
