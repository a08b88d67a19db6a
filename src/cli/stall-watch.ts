/**
 * Notices a download that is getting nowhere for lack of peers: no connected peer and
 * no tracker answer for `afterMs`, and says why in one line ("no peers yet: 2 trackers
 * failed (…)"). It never stops the download (trackers may come back); it only explains.
 * Pure: fed with session events and stats, read with `check`; the clock is injected.
 */
export interface StallWatchOptions {
  /** Quiet this long before a stall is reported. @default 60000 */
  afterMs?: number;
  /** Trackers the session announces to (0 when it has none or they are turned off). */
  trackers: number;
  /** True when the user turned trackers off (--no-trackers). */
  trackersOff: boolean;
  now?: () => number;
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
  readonly #now: () => number;
  /** Last moment something good happened: start, a tracker answer, a connected peer. */
  #lastGoodAt: number;
  readonly #trackerErrors = new Map<string, string>();
  #trackerAnswers = 0;
  #lastDisconnect: string | undefined;

  constructor(options: StallWatchOptions) {
    this.#afterMs = options.afterMs ?? 60_000;
    this.#trackers = options.trackers;
    this.#trackersOff = options.trackersOff;
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

  peerDisconnected(reason: string): void {
    this.#lastDisconnect = reason;
  }

  /**
   * Undefined while all is well; else why no data can come: called with the current
   * number of connected peers and of addresses known.
   */
  check(stats: { peers: number; knownPeers: number }): Stall | undefined {
    const now = this.#now();
    if (stats.peers > 0) {
      this.#lastGoodAt = now;
      return undefined;
    }
    if (now - this.#lastGoodAt < this.#afterMs) return undefined;
    const quiet = formatQuiet(now - this.#lastGoodAt);
    if (stats.knownPeers === 0) {
      return { kind: 'no-peers', reason: `no peers yet (${quiet}): ${this.#trackerStatus()}` };
    }
    const last = this.#lastDisconnect ? ` (last: ${this.#lastDisconnect})` : '';
    return {
      kind: 'none-connected',
      reason: `no peers connected (${quiet}): ${stats.knownPeers} known, none reachable${last}`,
    };
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
