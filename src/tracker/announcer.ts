import { EventEmitter } from 'node:events';
import type { PeerAddress } from '../address.js';
import { type Clock, systemClock } from '../clock.js';
import { TrackerError } from '../errors.js';
import { abortError, sanitizeInterval } from './announce-common.js';
import { AnnounceSlots } from './announce-slots.js';
import { createTrackerClient } from './create-tracker.js';
import type { AnnounceEvent, AnnounceResponse, TrackerClient } from './types.js';

/** The timer functions the announcer uses; tests pass a fake clock. */
/** The timers the announcer uses (a {@link Clock} without its reading); tests pass a fake clock. */
export type AnnouncerTimers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

export interface AnnouncerStats {
  uploaded: number;
  downloaded: number;
  left: number;
}

export interface AnnouncerOptions {
  /** BEP 12 `announce-list`: tiers of tracker URLs, the first tier most preferred. */
  tiers: string[][];
  infoHash: Buffer;
  peerId: Buffer;
  /** Our listen port. */
  port: number;
  /** Read at every announce. */
  stats: () => AnnouncerStats;
  /** @default createTrackerClient */
  createClient?: (url: string) => TrackerClient;
  /** Used to shuffle tiers and pick the session key. @default Math.random */
  random?: () => number;
  /** Milliseconds, the same clock as `timers`. @default Date.now */
  now?: () => number;
  /** @default unref()'d global setTimeout / clearTimeout */
  timers?: AnnouncerTimers;
  /** Peers asked for per announce. @default 50 */
  numwant?: number;
  /** First retry delay after a tier failed; doubles per failure. @default 15000 */
  retryBaseMs?: number;
  /** Longest retry delay. @default 1800000 (30 min) */
  retryMaxMs?: number;
  /** Shortest gap `announceNow()` keeps when a tracker sets no `min interval`. @default 60000 */
  minAnnounceGapMs?: number;
  /** How long `stop()` waits for trackers to take the `stopped` event. @default 3000 */
  stopTimeoutMs?: number;
  /**
   * Longest wait for one tracker's answer before the next tracker of the tier is tried. Without
   * it a UDP tracker that never answers (a dead host: loopback and most firewalls send nothing
   * back an unconnected UDP socket sees) holds its tier for BEP 15's whole retransmission
   * schedule, about two hours, and is never reported. @default 30000 (libtorrent's
   * tracker_completion_timeout)
   */
  announceTimeoutMs?: number;
  /**
   * Announces in flight at once for this torrent, `stopped` ones included. Waiting rounds go
   * fewest failures first, then in tier order, so a torrent listing thousands of silent
   * trackers holds a few sockets, not thousands, its first tiers are asked first, and retries
   * of dead trackers never starve a tier that has not had its turn. @default 8
   */
  maxAnnouncesInFlight?: number;
}

/** Default of `AnnouncerOptions.maxAnnouncesInFlight`. */
export const DEFAULT_MAX_ANNOUNCES_IN_FLIGHT = 8;

export interface AnnouncerEvents {
  peers: [peers: PeerAddress[], url: string];
  response: [info: { url: string; response: AnnounceResponse }];
  /** One tracker failed; never fatal (named so EventEmitter does not throw without a listener). */
  'announce-error': [info: { url: string; error: Error }];
  warning: [info: { url: string; message: string }];
}

interface Tier {
  /** Position in the tier list: among tiers waiting for a slot with as many failures, the lower goes first. */
  index: number;
  /** Current order: shuffled once, then the tracker that answered last goes first. */
  urls: string[];
  /** Trackers that accepted our `started` and so must get `stopped`. */
  started: Set<string>;
  /** `completed` still owed to this tier (kept across failed rounds). */
  owesCompleted: boolean;
  busy: boolean;
  /** Another round was asked for while one was running. */
  again: boolean;
  inFlight: { url: string; event: AnnounceEvent | undefined } | undefined;
  timer: unknown;
  /** When `timer` fires, on the `now` clock. */
  dueAt: number;
  failures: number;
  lastSuccessAt: number | undefined;
  minIntervalMs: number | undefined;
}

/**
 * Announces one torrent to its trackers (BEP 12). Every tier has its own
 * schedule; within a tier the trackers are tried in order until one answers, and
 * that one moves to the head of its tier. At most `maxAnnouncesInFlight`
 * announces are sent at once; rounds waiting for a slot are served fewest
 * failures first, then in tier order, so a dead, slow or garbage-speaking tracker delays its own tier and
 * holds one slot for at most `announceTimeoutMs`.
 */
export class Announcer extends EventEmitter<AnnouncerEvents> {
  readonly #options: AnnouncerOptions;
  readonly #now: () => number;
  readonly #timers: AnnouncerTimers;
  readonly #createClient: (url: string) => TrackerClient;
  readonly #clients = new Map<string, TrackerClient>();
  readonly #tiers: Tier[];
  readonly #key: number;
  /** One controller per announce being sent, so nothing piles listeners onto a shared signal. */
  readonly #controllers = new Set<AbortController>();
  readonly #maxInFlight: number;
  readonly #slots: AnnounceSlots;
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #stopping: Promise<void> | undefined;

  constructor(options: AnnouncerOptions) {
    super();
    this.#options = options;
    const random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? systemClock;
    this.#createClient = options.createClient ?? ((url) => createTrackerClient(url));
    this.#key = Math.floor(random() * 0x1_0000_0000) >>> 0;
    this.#maxInFlight = Math.max(
      1,
      Math.floor(options.maxAnnouncesInFlight ?? DEFAULT_MAX_ANNOUNCES_IN_FLIGHT),
    );
    this.#slots = new AnnounceSlots(this.#maxInFlight);
    const seen = new Set<string>();
    this.#tiers = [];
    for (const tierUrls of options.tiers) {
      // A URL listed twice would be announced to twice; the earlier (preferred) tier keeps it.
      const urls = tierUrls.map((url) => url.trim()).filter((url) => url !== '' && !seen.has(url));
      for (const url of urls) seen.add(url);
      if (urls.length === 0) continue;
      this.#tiers.push({
        index: this.#tiers.length,
        urls: shuffle(urls, random),
        started: new Set(),
        owesCompleted: false,
        busy: false,
        again: false,
        inFlight: undefined,
        timer: undefined,
        dueAt: 0,
        failures: 0,
        lastSuccessAt: undefined,
        minIntervalMs: undefined,
      });
    }
  }

  /** The tiers in their current order (after shuffling and promotion). */
  get tiers(): string[][] {
    return this.#tiers.map((tier) => [...tier.urls]);
  }

  /** Sends `started` to every tier. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    for (const tier of this.#tiers) void this.#runTier(tier);
  }

  /** Sends `completed` to every tier that has started (the others will say `left=0` when they do). */
  completed(): void {
    if (this.#state !== 'running') return;
    for (const tier of this.#tiers) {
      // A `started` still in flight was sent with left > 0: that tracker is owed `completed` too.
      if (tier.started.size === 0 && tier.inFlight?.event !== 'started') continue;
      tier.owesCompleted = true;
      void this.#runTier(tier);
    }
  }

  /** Asks every healthy tier for peers as soon as its tracker's `min interval` allows. */
  announceNow(): void {
    if (this.#state !== 'running') return;
    const now = this.#now();
    for (const tier of this.#tiers) {
      // Busy tiers are about to deliver; failing ones keep their back-off.
      if (tier.busy || tier.failures > 0 || tier.lastSuccessAt === undefined) continue;
      const earliest = tier.lastSuccessAt + (tier.minIntervalMs ?? this.#options.minAnnounceGapMs ?? 60_000);
      this.#schedule(tier, Math.min(Math.max(0, earliest - now), this.#remaining(tier, now)));
    }
  }

  /**
   * Sends `stopped` to every tracker that took `started`, waits at most
   * `stopTimeoutMs` for them, then closes all clients. Never rejects.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const wasRunning = this.#state === 'running';
    this.#state = 'stopped';
    for (const tier of this.#tiers) this.#clearTimer(tier);
    // Rounds waiting for a slot give up; announces in flight are aborted, each on its own controller.
    this.#slots.cancelAll();
    for (const controller of this.#controllers) controller.abort(abortError('announce (announcer stopped)'));
    if (wasRunning) {
      // Trackers that took `started` first; then those whose aborted `started` may have reached them.
      const farewells = new Set<string>();
      for (const tier of this.#tiers) for (const url of tier.started) farewells.add(url);
      for (const tier of this.#tiers)
        if (tier.inFlight?.event === 'started') farewells.add(tier.inFlight.url);
      await this.#sayStopped([...farewells]);
    }
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }

  /**
   * Sends `stopped` to `urls`, at most `maxAnnouncesInFlight` at a time, and gives up on all
   * of them (in flight or not yet sent) after `stopTimeoutMs` in total: a torrent with
   * thousands of started trackers stops in bounded time with a bounded number of sockets.
   */
  async #sayStopped(urls: string[]): Promise<void> {
    let next = 0;
    let expired = false;
    const inFlight = new Set<AbortController>();
    let timer: unknown;
    const timedOut = new Promise<void>((resolve) => {
      timer = this.#timers.setTimeout(() => {
        expired = true;
        for (const controller of inFlight) controller.abort(abortError('stopped announce'));
        resolve();
      }, this.#options.stopTimeoutMs ?? 3000);
    });
    const worker = async (): Promise<void> => {
      while (!expired && next < urls.length) {
        const url = urls[next++]!;
        const controller = new AbortController();
        inFlight.add(controller);
        try {
          await this.#announceTo(url, 'stopped', controller.signal);
        } catch {
          // A tracker that does not take our goodbye forgets us after its interval anyway.
        } finally {
          inFlight.delete(controller);
        }
      }
    };
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.min(this.#maxInFlight, urls.length); i++) workers.push(worker());
    await Promise.race([Promise.all(workers), timedOut]);
    this.#timers.clearTimeout(timer);
  }

  /** One round for one tier: its trackers in order until one answers, then schedule the next round. */
  async #runTier(tier: Tier): Promise<void> {
    if (tier.busy) {
      tier.again = true;
      return;
    }
    tier.busy = true;
    this.#clearTimer(tier);
    try {
      for (const url of [...tier.urls]) {
        // Wait for a slot first: what to say is decided when it is sent.
        if (!(await this.#slots.acquire(tier))) return;
        if (this.#state !== 'running') {
          this.#slots.release();
          return;
        }
        const event = !tier.started.has(url) ? 'started' : tier.owesCompleted ? 'completed' : undefined;
        // Only an announce sent after completion tells the tracker about it (a `started` then says left=0).
        const carriesCompletion = tier.owesCompleted;
        const sentAt = this.#now();
        let response: AnnounceResponse;
        tier.inFlight = { url, event };
        try {
          response = await this.#announceWithDeadline(url, event);
        } catch (error) {
          if (this.#state !== 'running') return;
          // A failed tracker keeps no socket (a UDP client holds one) until its next turn.
          this.#clients.get(url)?.close();
          this.#clients.delete(url);
          this.emit('announce-error', {
            url,
            error: error instanceof Error ? error : new TrackerError(String(error)),
          });
          continue;
        } finally {
          tier.inFlight = undefined;
          this.#slots.release();
        }
        if (this.#state !== 'running') return;
        if (carriesCompletion) tier.owesCompleted = false;
        this.#onSuccess(tier, url, event, sentAt, response);
        return;
      }
      tier.failures++;
      const backoff = (this.#options.retryBaseMs ?? 15_000) * 2 ** Math.min(tier.failures - 1, 30);
      this.#schedule(tier, Math.min(backoff, this.#options.retryMaxMs ?? 1_800_000));
    } finally {
      tier.busy = false;
      if (tier.again && this.#state === 'running') {
        tier.again = false;
        void this.#runTier(tier);
      }
    }
  }

  #onSuccess(
    tier: Tier,
    url: string,
    event: AnnounceEvent | undefined,
    sentAt: number,
    response: AnnounceResponse,
  ): void {
    if (event === 'started') tier.started.add(url);
    tier.failures = 0;
    tier.lastSuccessAt = sentAt;
    tier.minIntervalMs = response.minInterval === undefined ? undefined : response.minInterval * 1000;
    tier.urls = [url, ...tier.urls.filter((other) => other !== url)];
    // Clamped again: a custom client returning interval 0 must not make us spin.
    const waitSeconds = Math.max(sanitizeInterval(response.interval), response.minInterval ?? 0);
    this.#schedule(tier, waitSeconds * 1000);
    this.emit('response', { url, response });
    if (response.warning !== undefined) this.emit('warning', { url, message: response.warning });
    if (response.peers.length > 0) this.emit('peers', response.peers, url);
  }

  /** One announce bounded by `announceTimeoutMs`; a timeout rejects with a TrackerError saying so. */
  async #announceWithDeadline(url: string, event: AnnounceEvent | undefined): Promise<AnnounceResponse> {
    const limitMs = this.#options.announceTimeoutMs ?? 30_000;
    const controller = new AbortController();
    this.#controllers.add(controller);
    let timedOut = false;
    const timer = this.#timers.setTimeout(() => {
      timedOut = true;
      controller.abort(abortError('announce (tracker timed out)'));
    }, limitMs);
    try {
      return await this.#announceTo(url, event, controller.signal);
    } catch (error) {
      // Clients turn an abort into their own error; say what really happened.
      if (timedOut) throw new TrackerError(`tracker did not answer within ${limitMs / 1000} s`);
      throw error;
    } finally {
      this.#timers.clearTimeout(timer);
      this.#controllers.delete(controller);
    }
  }

  #announceTo(url: string, event: AnnounceEvent | undefined, signal: AbortSignal): Promise<AnnounceResponse> {
    let client = this.#clients.get(url);
    if (!client) {
      try {
        client = this.#createClient(url);
      } catch (error) {
        return Promise.reject(error);
      }
      this.#clients.set(url, client);
    }
    const stats = this.#options.stats();
    return client.announce({
      infoHash: this.#options.infoHash,
      peerId: this.#options.peerId,
      port: this.#options.port,
      uploaded: stats.uploaded,
      downloaded: stats.downloaded,
      left: stats.left,
      ...(event === undefined ? {} : { event }),
      numwant: event === 'stopped' ? 0 : (this.#options.numwant ?? 50),
      key: this.#key,
      signal,
    });
  }

  /** Milliseconds until the tier's already planned round (Infinity when none). */
  #remaining(tier: Tier, now: number): number {
    return tier.timer === undefined ? Number.POSITIVE_INFINITY : tier.dueAt - now;
  }

  #schedule(tier: Tier, delayMs: number): void {
    this.#clearTimer(tier);
    tier.dueAt = this.#now() + delayMs;
    tier.timer = this.#timers.setTimeout(() => {
      tier.timer = undefined;
      void this.#runTier(tier);
    }, delayMs);
  }

  #clearTimer(tier: Tier): void {
    if (tier.timer === undefined) return;
    this.#timers.clearTimeout(tier.timer);
    tier.timer = undefined;
  }
}

/** Fisher–Yates with an injected random source (BEP 12: shuffle each tier once). */
function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
