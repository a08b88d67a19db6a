/**
 * Applies the queue and the seed limits to the daemon's torrents (docs/queue.md): which torrents
 * run, which wait (`download-wait`/`seed-wait`), and which stop because their seeding is over.
 * The decisions are the pure policies' (through src/daemon/queue-control.ts); this starts and
 * stops sessions through the callbacks the daemon gives.
 */
import { ratioModeOnManualStart } from '../policy/seed-limits.js';
import { isRunState, isWaitState } from '../policy/torrent-queue.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import { admitToQueue, type QueueSlots, slotsHeld } from './queue-admit.js';
import { isRunning, planQueue, queueFacts, seedFacts, seedVerdict, stalledChanged } from './queue-control.js';
import type { DaemonSettings } from './settings-types.js';
import type { LogLevel } from './torrent-runner.js';

export interface SchedulerHost {
  /** The daemon's torrents, in queue order. */
  readonly torrents: readonly DaemonTorrentEntry[];
  settings(): Readonly<DaemonSettings>;
  now(): number;
  /** Starts a torrent that is not running (and not stopping). */
  start(entry: DaemonTorrentEntry): void;
  /** Stops a running torrent (counted in the daemon's totals). */
  stop(entry: DaemonTorrentEntry): Promise<void>;
  save(entry: DaemonTorrentEntry): Promise<void>;
  log(level: LogLevel, message: string): void;
  closed(): boolean;
}

export class Scheduler {
  readonly #host: SchedulerHost;
  /** A plan is wanted while one is being applied: plan again once it is over. */
  #again = false;
  #planning = false;
  /** A plan is asked for after this turn (applyQueueSoon). */
  #soon: NodeJS.Immediate | undefined;
  /** The run slots the last full plan handed out, kept up to date by `admit`. */
  #held: QueueSlots | undefined;
  /** Torrents admitted since the last full plan: the tick plans once (a second at most). */
  #admitted = 0;
  /** Admitted as seeds since the last full plan (their completion changes no count). */
  #countedDone = new WeakSet<DaemonTorrentEntry>();

  constructor(host: SchedulerHost) {
    this.#host = host;
  }

  /**
   * Decides the queue and applies it: torrents given a slot start, running ones over the limit
   * stop and wait, and waiting ones show `download-wait`/`seed-wait`. Safe to call at any time.
   */
  applyQueue(): void {
    const host = this.#host;
    if (host.closed()) return;
    // A plan now covers a pending applyQueueSoon.
    if (this.#soon !== undefined) {
      clearImmediate(this.#soon);
      this.#soon = undefined;
    }
    if (this.#planning) {
      this.#again = true;
      return;
    }
    this.#planning = true;
    try {
      const byId = new Map(host.torrents.map((entry) => [entry.id, entry]));
      const { facts, decision } = planQueue(host.torrents, host.settings(), host.now());
      this.#held = slotsHeld(facts, decision);
      this.#admitted = 0;
      this.#countedDone = new WeakSet();
      for (const id of decision.toQueue) {
        const entry = byId.get(id)!;
        host.log('info', `torrent ${id}: queued (no free slot)`);
        host
          .stop(entry)
          .catch((error: unknown) => host.log('error', `torrent ${id}: ${(error as Error).message}`));
      }
      for (const id of decision.start) {
        const entry = byId.get(id)!;
        // A stop still under way finishes first; the queue decides again then.
        if (entry.stopping !== undefined) {
          entry.stopping.then(() => this.applyQueue());
          continue;
        }
        host.log('debug', `torrent ${id}: started by the queue`);
        host.start(entry);
      }
      for (const { id, state } of decision.states) {
        const entry = byId.get(id)!;
        const waits = state === 'download-wait' || state === 'seed-wait';
        // A change of phase is shown by `recently-active` (the entry stamps it).
        if (waits && !isRunning(entry)) entry.phase = 'queued';
        else if (state === 'stopped' && entry.phase === 'queued') entry.phase = 'stopped';
      }
    } finally {
      this.#planning = false;
    }
    if (this.#again) {
      this.#again = false;
      this.applyQueue();
    }
  }

  /**
   * A torrent that held no run slot joins the queue without a plan over every torrent
   * (src/daemon/queue-admit.ts, O(1)): one just added (last, not running: started when its
   * direction has a free slot by the counts the last plan left, else shown waiting), or one
   * whose first check just ended (running: keeps running while a slot is free). Otherwise (no
   * plan yet, one pending or under way, no free slot for a running one) a full plan: now, or
   * with `soon` once this turn is over. Whatever changed since the last plan without asking for
   * one (a stop that ended) is caught by the next tick's plan, which runs when anything was
   * admitted.
   */
  admit(entry: DaemonTorrentEntry, soon = false): void {
    const host = this.#host;
    if (host.closed()) return;
    const held = this.#held;
    const settings = host.settings();
    const admitted =
      held === undefined || this.#soon !== undefined || this.#planning
        ? undefined
        : admitToQueue(queueFacts(entry, settings, host.now()), held, settings);
    if (admitted === undefined) {
      if (soon) this.applyQueueSoon();
      else this.applyQueue();
      return;
    }
    this.#held = admitted.held;
    this.#admitted++;
    if (admitted.state === 'seeding') this.#countedDone.add(entry);
    if (isRunState(admitted.state) && !isRunning(entry)) {
      host.log('debug', `torrent ${entry.id}: started by the queue`);
      host.start(entry);
    } else if (isWaitState(admitted.state) && !isRunning(entry)) entry.phase = 'queued';
  }

  /**
   * A torrent's facts changed (completed, failed): a plan once this turn is over, unless it is a
   * torrent admitted as a seed since the last plan that completed (its first check found it
   * complete: 'done' follows 'ready' in the same turn, and the counts already have it).
   */
  changed(entry: DaemonTorrentEntry): void {
    if (this.#countedDone.has(entry) && entry.complete && entry.state.error?.kind !== 'local') return;
    this.applyQueueSoon();
  }

  /**
   * One plan once the current turn is over, however many callers ask in it: at start, 1,000
   * torrents become ready in a few turns each, and a plan over all of them per ready was
   * O(torrents²) (≈ 0.6 s of CPU at 1,000).
   */
  applyQueueSoon(): void {
    if (this.#soon !== undefined) return;
    this.#soon = setImmediate(() => {
      this.#soon = undefined;
      this.applyQueue();
    });
  }

  /**
   * Stops every running torrent whose seeding is over (ratio first, then idle): paused, logged,
   * `isFinished` from then on. Returns whether any stopped (the queue was then decided again).
   */
  applySeedLimits(): boolean {
    const host = this.#host;
    if (host.closed()) return false;
    const settings = host.settings();
    const now = host.now();
    let stopped = false;
    for (const entry of host.torrents) {
      const verdict = seedVerdict(entry, settings, now);
      if (verdict?.stop === undefined) continue;
      stopped = true;
      entry.state.paused = true;
      entry.bypassQueue = false;
      entry.stoppedByIdle = verdict.stop === 'idle';
      host.log(
        'info',
        verdict.stop === 'ratio'
          ? `torrent ${entry.id}: seed ratio reached, seeding stopped`
          : `torrent ${entry.id}: seed idle limit reached, seeding stopped`,
      );
      host
        .stop(entry)
        .then(() => host.save(entry))
        .catch((error: unknown) => host.log('error', `torrent ${entry.id}: ${(error as Error).message}`));
    }
    if (stopped) this.applyQueue();
    return stopped;
  }

  /** The daemon's one-second tick: seed limits, then a stalled torrent frees (or takes back) its slot. O(torrents). */
  tick(): void {
    if (this.applySeedLimits()) return;
    if (this.#admitted > 0 || stalledChanged(this.#host.torrents, this.#host.settings(), this.#host.now()))
      this.applyQueue();
  }

  /**
   * Before a user start: clears what kept it stopped (a local error, an idle finish), turns its
   * ratio mode to `unlimited` when its ratio is already reached (as Transmission), and with
   * `now` lets it bypass the queue.
   */
  prepareStart(entry: DaemonTorrentEntry, now: boolean): void {
    const change = ratioModeOnManualStart(seedFacts(entry), this.#host.settings());
    if (change) {
      entry.state.settings = { ...entry.state.settings, ...change };
      this.#host.log('info', `torrent ${entry.id}: ratio already reached, its ratio limit is now off`);
    }
    entry.state.paused = false;
    entry.stoppedByIdle = false;
    entry.bypassQueue = now;
    if (entry.state.error?.kind === 'local') entry.state.error = undefined;
  }
}
