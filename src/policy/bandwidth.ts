import type { Clock } from '../clock.js';
import { LodestoneError } from '../errors.js';

/**
 * Seconds of rate a channel may save up while nobody uses it: the largest burst above the
 * rate. Small, so that an idle second does not become a spike, and so that a 10 s average
 * stays within a few percent of the rate (100 ms is 1 % of 10 s).
 */
export const BURST_SECONDS = 0.1;

/** A torrent's share of a channel it has in common with others (Transmission's `bandwidthPriority`). */
export type BandwidthPriority = 'low' | 'normal' | 'high';

const LEVEL: Record<BandwidthPriority, number> = { low: 0, normal: 1, high: 2 };

/**
 * The longest a lower-priority waiter is held back after a round that woke only higher ones,
 * when they do not use the channel: it is never left idle while someone waits.
 */
export const PRIORITY_ROUND_MS = 100;

/** Checks a rate given by a caller: bytes per second, a finite number ≥ 0 (0 = unlimited). */
export function checkRate(rate: number | undefined, what: string): number {
  if (rate === undefined) return 0;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0)
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      `${what} must be a number of bytes per second ≥ 0 (0 = unlimited), not ${String(rate)}`,
    );
  return rate;
}

/**
 * A token bucket for one direction of one level (the client, or a torrent): `rate` bytes per
 * second, 0 meaning unlimited. Bytes are paid after they moved (`use`), so the bucket may go
 * into debt; whoever asks `delayMs` while it is in debt waits until the debt is repaid. Over
 * any long window the bytes used are at most rate × time + the burst + the last payment, so
 * the average converges to the rate whatever the size of each payment.
 *
 * Waiters (`wait`) are woken together, in the order they came, once the debt is repaid: each
 * then moves one more chunk and pays for it, so every peer that asks gets a turn per round
 * (no starvation), as the rounds of libtorrent's bandwidth manager. One timer per channel.
 *
 * Priorities (a channel shared by torrents, the client's): a round wakes every waiter of the
 * highest priority waiting, those one level lower every 2nd round, two levels lower every 4th,
 * so per waiter high : normal : low = 4 : 2 : 1 of the bytes when the limit binds. Waiters of
 * one priority alone get every round (nothing is held back for a priority that is not there),
 * and after a round that held some back, they are woken once the channel has gone into debt
 * and out again, or after PRIORITY_ROUND_MS if the woken ones did not use it.
 */
export class BandwidthChannel {
  readonly #clock: Clock;
  #rate = 0;
  #tokens = 0;
  #last: number;
  #waiters: { waiter: () => void; level: number }[] = [];
  #timer: unknown;
  #round = 0;
  /** When the last round held lower priorities back (until the channel goes into debt). */
  #heldAt: number | undefined;

  constructor(clock: Clock, rate = 0) {
    this.#clock = clock;
    this.#last = clock.now();
    this.setRate(rate);
  }

  get rate(): number {
    return this.#rate;
  }

  get limited(): boolean {
    return this.#rate > 0;
  }

  /** Changes the rate now; waiters are rescheduled (or woken, when the limit is lifted). */
  setRate(rate: number): void {
    const checked = checkRate(rate, 'a rate limit');
    this.#refill();
    this.#rate = checked;
    if (checked === 0) {
      this.#tokens = 0;
      this.#heldAt = undefined;
    } else this.#tokens = Math.min(this.#tokens, this.#burst());
    if (this.#waiters.length > 0) this.#schedule();
  }

  /** Pays for bytes that moved (payload and protocol overhead alike). */
  use(bytes: number): void {
    if (this.#rate === 0) return;
    this.#refill();
    this.#tokens -= bytes;
    // The woken ones used their round: the held-back ones wait for the debt to be repaid.
    if (this.#heldAt !== undefined && this.#tokens < 0) {
      this.#heldAt = undefined;
      if (this.#waiters.length > 0) this.#schedule();
    }
  }

  /** Milliseconds until the channel is out of debt; 0 when bytes may move now. */
  delayMs(): number {
    if (this.#rate === 0) return 0;
    this.#refill();
    if (this.#tokens >= 0) return 0;
    return Math.ceil((-this.#tokens * 1000) / this.#rate);
  }

  /** Calls `waiter` once, when the channel is out of debt (at once if it is) and its priority's turn comes. */
  wait(waiter: () => void, priority: BandwidthPriority = 'normal'): void {
    this.#waiters.push({ waiter, level: LEVEL[priority] });
    if (this.#waiters.length === 1) this.#schedule();
  }

  /** Forgets a waiter that no longer needs waking (a closed connection). */
  cancel(waiter: () => void): void {
    const at = this.#waiters.findIndex((item) => item.waiter === waiter);
    if (at >= 0) this.#waiters.splice(at, 1);
    if (this.#waiters.length === 0) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#heldAt = undefined;
    }
  }

  /** How many are waiting (for tests and stats). */
  get waiting(): number {
    return this.#waiters.length;
  }

  #burst(): number {
    return this.#rate * BURST_SECONDS;
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (this.#rate === 0 || elapsed <= 0) return;
    this.#tokens = Math.min(this.#burst(), this.#tokens + (this.#rate * elapsed) / 1000);
  }

  #schedule(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    let delay = this.delayMs();
    if (delay === 0 && this.#heldAt !== undefined)
      delay = Math.max(0, this.#heldAt + PRIORITY_ROUND_MS - this.#clock.now());
    if (delay === 0) {
      // Not inline: a waiter registered during a read would otherwise run before it returns.
      this.#timer = this.#clock.setTimeout(() => this.#wake(), 0);
      return;
    }
    this.#timer = this.#clock.setTimeout(() => this.#wake(), delay);
  }

  #wake(): void {
    this.#timer = undefined;
    if (
      this.delayMs() > 0 ||
      (this.#heldAt !== undefined && this.#clock.now() < this.#heldAt + PRIORITY_ROUND_MS)
    ) {
      this.#schedule();
      return;
    }
    this.#heldAt = undefined;
    this.#round++;
    let top = 0;
    for (const item of this.#waiters) top = Math.max(top, item.level);
    const woken: (() => void)[] = [];
    const held: { waiter: () => void; level: number }[] = [];
    for (const item of this.#waiters) {
      const gap = top - item.level;
      if (gap === 0 || this.#round % (1 << gap) === 0) woken.push(item.waiter);
      else held.push(item);
    }
    this.#waiters = held;
    if (held.length > 0) {
      this.#heldAt = this.#clock.now();
      this.#schedule();
    }
    for (const waiter of woken) waiter();
  }
}

/**
 * The channels one transfer direction of a torrent pays into: its own, then the client's
 * (unless the torrent does not honour the client's limits). Shared by all the torrent's peers.
 */
export class BandwidthChain {
  #channels: readonly BandwidthChannel[];
  #priority: BandwidthPriority = 'normal';

  constructor(channels: readonly BandwidthChannel[], priority: BandwidthPriority = 'normal') {
    this.#channels = channels;
    this.setPriority(priority);
  }

  /** The priority its waits have on the channels (the torrent's `bandwidthPriority`). */
  get priority(): BandwidthPriority {
    return this.#priority;
  }

  setPriority(priority: BandwidthPriority): void {
    if (!Object.hasOwn(LEVEL, priority))
      throw new LodestoneError(
        'LODESTONE_ERR_USAGE',
        `a bandwidth priority is low, normal or high, not ${String(priority)}`,
      );
    this.#priority = priority;
  }

  /** Replaces the channels (a torrent starts or stops honouring the client's limits). */
  setChannels(channels: readonly BandwidthChannel[]): void {
    this.#channels = channels;
  }

  get limited(): boolean {
    for (const channel of this.#channels) if (channel.limited) return true;
    return false;
  }

  use(bytes: number): void {
    for (const channel of this.#channels) channel.use(bytes);
  }

  delayMs(): number {
    let delay = 0;
    for (const channel of this.#channels) delay = Math.max(delay, channel.delayMs());
    return delay;
  }

  /**
   * Calls `waiter` once every channel is out of debt. It waits on the channel with the longest
   * delay and checks again when woken (another level may have gone into debt meanwhile).
   * Returns a cancel function.
   */
  wait(waiter: () => void): () => void {
    let current: { channel: BandwidthChannel; wake: () => void } | undefined;
    let cancelled = false;
    const attempt = (): void => {
      current = undefined;
      if (cancelled) return;
      let worst: BandwidthChannel | undefined;
      let worstDelay = 0;
      for (const channel of this.#channels) {
        const delay = channel.delayMs();
        if (delay > worstDelay) {
          worst = channel;
          worstDelay = delay;
        }
      }
      if (worst === undefined) {
        waiter();
        return;
      }
      const wake = (): void => attempt();
      current = { channel: worst, wake };
      worst.wait(wake, this.#priority);
    };
    attempt();
    return () => {
      cancelled = true;
      if (current !== undefined) current.channel.cancel(current.wake);
      current = undefined;
    };
  }
}
