/** What the choker sees of a peer: no sockets, just numbers. */
export interface ChokeCandidate {
  key: string;
  interested: boolean;
  /** Bytes/s the peer sends us. */
  downloadRate: number;
  /** Bytes/s we send the peer. */
  uploadRate: number;
  snubbed: boolean;
  /** When we connected (ms), so new peers can be weighted up for the optimistic slot. */
  connectedAt: number;
  /**
   * Unchoked for a round and took nothing (a vanished peer, or one that asks for nothing):
   * ranked after every peer that is not, so it cannot hold a slot a live peer waits for.
   */
  stalled?: boolean;
}

export interface ChokeDecision {
  unchoke: Set<string>;
  optimistic: string | undefined;
}

export interface ChokerOptions {
  /** Regular unchoke slots. @default 4 */
  slots?: number;
  random?: () => number;
  now?: () => number;
  /** How long a peer keeps the optimistic slot. @default 30000 */
  optimisticIntervalMs?: number;
}

/** BEP 3: the optimistic unchoke rotates every 30 seconds. */
export const OPTIMISTIC_INTERVAL_MS = 30_000;

/**
 * BEP 3 tit-for-tat. While downloading, the `slots` interested peers that
 * send us the most are unchoked (snubbed peers are not rewarded); while
 * seeding, the peers we upload to fastest are kept, which favours peers that
 * can take data quickly and spreads pieces fastest (libtorrent's
 * "fastest upload" seeding choker). One more slot rotates optimistically, with
 * peers connected in the last minute three times as likely to be chosen, so
 * newcomers get a first piece to trade with.
 *
 * The optimistic slot follows the clock, never the number of decisions: it
 * moves to another peer once `optimisticIntervalMs` has passed, or earlier
 * only when its holder left or lost interest. A peer that flaps its interest
 * (or connects and disconnects) can therefore make us decide again, but cannot
 * make us re-roll the slot and choke the peer holding it. While it holds the
 * slot, the optimistic peer is not ranked for a regular slot, so a regular
 * peer is not pushed out by it either.
 */
export class Choker {
  readonly #slots: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #interval: number;
  #optimistic: string | undefined;
  #optimisticSince = Number.NEGATIVE_INFINITY;

  constructor(options: ChokerOptions = {}) {
    this.#slots = options.slots ?? 4;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#interval = options.optimisticIntervalMs ?? OPTIMISTIC_INTERVAL_MS;
  }

  /** The peer holding the optimistic slot, if any. */
  get optimistic(): string | undefined {
    return this.#optimistic;
  }

  /** One choking round: every 10 s, and (rate-limited) when peers come, go or change interest. */
  decide(candidates: readonly ChokeCandidate[], seeding: boolean): ChokeDecision {
    const now = this.#now();
    const interested = candidates.filter((c) => c.interested);
    const holder = this.#optimistic;
    const keep =
      holder !== undefined &&
      now - this.#optimisticSince < this.#interval &&
      interested.some((c) => c.key === holder);
    const ranked = interested
      .filter((c) => (seeding || !c.snubbed) && !(keep && c.key === holder))
      .sort(
        (a, b) =>
          Number(a.stalled === true) - Number(b.stalled === true) ||
          (seeding ? b.uploadRate - a.uploadRate : b.downloadRate - a.downloadRate),
      );
    const unchoke = new Set(ranked.slice(0, this.#slots).map((c) => c.key));

    if (!keep) {
      const waiting = interested.filter((c) => !unchoke.has(c.key));
      const live = waiting.filter((c) => c.stalled !== true);
      const pool = live.length > 0 ? live : waiting;
      // Rotating means another peer's turn, when there is another peer.
      const others = pool.filter((c) => c.key !== holder);
      this.#optimistic = this.#pickOptimistic(others.length > 0 ? others : pool, now);
      this.#optimisticSince = now;
    }
    if (this.#optimistic !== undefined) unchoke.add(this.#optimistic);
    return { unchoke, optimistic: this.#optimistic };
  }

  #pickOptimistic(pool: readonly ChokeCandidate[], now: number): string | undefined {
    if (pool.length === 0) return undefined;
    const weights = pool.map((c) => (now - c.connectedAt < 60_000 ? 3 : 1));
    const total = weights.reduce((sum, w) => sum + w, 0);
    let point = this.#random() * total;
    for (let i = 0; i < pool.length; i++) {
      point -= weights[i]!;
      if (point < 0) return pool[i]!.key;
    }
    return pool[pool.length - 1]!.key;
  }
}
