/** Where a waiting round stands in line: fewer failures in a row first, then the lower tier index. */
export interface SlotRank {
  failures: number;
  index: number;
}

/**
 * A bounded number of announce slots with a waiting line kept in rank order: a tier that has
 * failed fewer times goes first, then the earlier tier, first come first served on a tie. So
 * tiers are tried in order, and the retries of thousands of dead trackers never starve a tier
 * that has not had its turn yet. Pure bookkeeping, no I/O and no timers.
 */
export class AnnounceSlots {
  readonly #limit: number;
  #inUse = 0;
  /** Waiting rounds, sorted by index. */
  readonly #waiting: { rank: SlotRank; grant: (granted: boolean) => void }[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Slots taken now (never more than the limit). */
  get inUse(): number {
    return this.#inUse;
  }

  /** Rounds waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves true when a slot is ours (give it back with `release`), false if `cancelAll` came first. */
  acquire(rank: SlotRank): Promise<boolean> {
    if (this.#inUse < this.#limit) {
      this.#inUse++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((grant) => {
      let low = 0;
      let high = this.#waiting.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (!before(rank, this.#waiting[mid]!.rank)) low = mid + 1;
        else high = mid;
      }
      this.#waiting.splice(low, 0, { rank: { ...rank }, grant });
    });
  }

  /** Hands the slot straight to the first waiting round, or frees it. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next.grant(true);
    else this.#inUse = Math.max(0, this.#inUse - 1);
  }

  /** Every waiting round gets `false` (the announcer stopped). */
  cancelAll(): void {
    for (const waiter of this.#waiting.splice(0)) waiter.grant(false);
  }
}

function before(a: SlotRank, b: SlotRank): boolean {
  return a.failures !== b.failures ? a.failures < b.failures : a.index < b.index;
}
