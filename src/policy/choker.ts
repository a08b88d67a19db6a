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
}

/**
 * BEP 3 tit-for-tat. While downloading, the `slots` interested peers that
 * send us the most are unchoked (snubbed peers are not rewarded); while
 * seeding, the peers we upload to fastest are kept, which favours peers that
 * can take data quickly and spreads pieces fastest (libtorrent's
 * "fastest upload" seeding choker). One more slot rotates optimistically
 * every third round (30 s at the usual 10 s interval), with peers connected
 * in the last minute three times as likely to be chosen, so newcomers get a
 * first piece to trade with.
 */
export class Choker {
  readonly #slots: number;
  readonly #random: () => number;
  readonly #now: () => number;
  #round = 0;
  #optimistic: string | undefined;

  constructor(options: ChokerOptions = {}) {
    this.#slots = options.slots ?? 4;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /** One choking round; call every 10 s (and when peers come or go). */
  decide(candidates: readonly ChokeCandidate[], seeding: boolean): ChokeDecision {
    const interested = candidates.filter((c) => c.interested);
    const ranked = interested
      .filter((c) => seeding || !c.snubbed)
      .sort((a, b) => (seeding ? b.uploadRate - a.uploadRate : b.downloadRate - a.downloadRate));
    const unchoke = new Set(ranked.slice(0, this.#slots).map((c) => c.key));

    const optimisticStillValid =
      this.#optimistic !== undefined &&
      interested.some((c) => c.key === this.#optimistic) &&
      !unchoke.has(this.#optimistic);
    if (this.#round % 3 === 0 || !optimisticStillValid) {
      this.#optimistic = this.#pickOptimistic(interested.filter((c) => !unchoke.has(c.key)));
    }
    this.#round++;
    if (this.#optimistic !== undefined) unchoke.add(this.#optimistic);
    return { unchoke, optimistic: this.#optimistic };
  }

  #pickOptimistic(pool: readonly ChokeCandidate[]): string | undefined {
    if (pool.length === 0) return undefined;
    const now = this.#now();
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
