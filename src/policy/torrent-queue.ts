/**
 * The download and seed queues (docs/queue.md): which torrents run and which wait, and the queue
 * order itself. Pure: the daemon passes plain facts and applies the decision.
 *
 * The decision, per direction (downloading: not done; seeding: done):
 * - Torrents the user paused, with a local error, or being checked take no part.
 * - A torrent started with "start now" (`torrent-start-now`) runs and takes no slot.
 * - A running torrent that is stalled (no payload activity for `queue-stalled-minutes`) keeps
 *   running and takes no slot.
 * - The other candidates share `*-queue-size` slots. Running torrents keep theirs (moving a
 *   waiting torrent to the top does not stop a running one); free slots go to the waiting ones
 *   in queue order. If more run than there are slots (the size was lowered, a download finished
 *   into a full seed queue, a stalled torrent woke up), the ones furthest down the queue wait.
 * - A disabled queue lets every candidate run.
 */

export type QueueTorrentId = number;

/** One torrent as the queue sees it. */
export interface QueueTorrent {
  id: QueueTorrentId;
  /** Its place in the queue order (0 first); ties are broken by id. */
  position: number;
  /** Not paused by the user. */
  wantsToRun: boolean;
  /** Every wanted piece verified: it queues as a seed. */
  done: boolean;
  /** Downloading or seeding right now. */
  running: boolean;
  /** Running and stalled (src/policy/torrent-activity.ts `isStalled`); ignored when not running. */
  stalled: boolean;
  /** Started with "start now": bypasses the queue until it is stopped. */
  bypassQueue: boolean;
  /** A local error (missing files, disk full) that keeps it stopped; tracker errors do not count. */
  error: boolean;
  /** Being verified or waiting to be; the queue leaves it alone. */
  checking: boolean;
}

/** The settings the queue reads, with Transmission's `settings.json` names. */
export interface QueueSettings {
  'download-queue-enabled': boolean;
  'download-queue-size': number;
  'seed-queue-enabled': boolean;
  'seed-queue-size': number;
}

/** Where the queue puts a torrent. `checking` and `stopped` torrents are left as they are. */
export type QueueState = 'stopped' | 'checking' | 'download-wait' | 'downloading' | 'seed-wait' | 'seeding';

export interface QueueDecision {
  /** Every torrent's state, in queue order. */
  states: Array<{ id: QueueTorrentId; state: QueueState }>;
  /** Not running now, should run: start these. */
  start: QueueTorrentId[];
  /** Running now, should wait: stop these and show them as waiting. */
  toQueue: QueueTorrentId[];
}

function byPosition(a: QueueTorrent, b: QueueTorrent): number {
  return a.position - b.position || a.id - b.id;
}

function slots(enabled: boolean, size: number): number {
  if (!enabled) return Infinity;
  return Number.isFinite(size) ? Math.max(0, Math.floor(size)) : 0;
}

/** The run slots of each direction (Infinity when its queue is disabled). */
export function queueLimits(settings: QueueSettings): { down: number; up: number } {
  return {
    down: slots(settings['download-queue-enabled'], settings['download-queue-size']),
    up: slots(settings['seed-queue-enabled'], settings['seed-queue-size']),
  };
}

/**
 * A torrent's state when it does not contend for a slot (being checked, stopped, started with
 * "start now", running but stalled), or undefined when it does.
 */
export function outsideQueue(t: QueueTorrent): QueueState | undefined {
  if (t.checking) return 'checking';
  if (!t.wantsToRun || t.error) return 'stopped';
  if (t.bypassQueue || (t.running && t.stalled)) return t.done ? 'seeding' : 'downloading';
  return undefined;
}

export function isRunState(state: QueueState | undefined): boolean {
  return state === 'downloading' || state === 'seeding';
}

export function isWaitState(state: QueueState | undefined): boolean {
  return state === 'download-wait' || state === 'seed-wait';
}

/**
 * Decides which torrents run and which wait. Deterministic: the same facts give the same
 * decision whatever their order in the input. Call it whenever a fact changes (a start or stop,
 * a torrent done, a stalled timer, a queue move, a settings change), or once a second as
 * Transmission does.
 */
export function decideQueue(torrents: readonly QueueTorrent[], settings: QueueSettings): QueueDecision {
  const sorted = [...torrents].sort(byPosition);
  const state = new Map<QueueTorrentId, QueueState>();
  const limits = queueLimits(settings);
  const contenders = { down: [] as QueueTorrent[], up: [] as QueueTorrent[] };
  for (const t of sorted) {
    const outside = outsideQueue(t);
    if (outside !== undefined) state.set(t.id, outside);
    else contenders[t.done ? 'up' : 'down'].push(t);
  }
  for (const dir of ['down', 'up'] as const) {
    const list = contenders[dir];
    const limit = limits[dir];
    const runState: QueueState = dir === 'down' ? 'downloading' : 'seeding';
    const waitState: QueueState = dir === 'down' ? 'download-wait' : 'seed-wait';
    // Running ones keep their slots, best positions first; the rest fill what is left in order.
    const running = list.filter((t) => t.running);
    const kept = new Set(running.slice(0, limit).map((t) => t.id));
    let free = limit - kept.size;
    for (const t of list) {
      if (kept.has(t.id)) state.set(t.id, runState);
      else if (!t.running && free > 0) {
        free--;
        state.set(t.id, runState);
      } else state.set(t.id, waitState);
    }
  }
  const states = sorted.map((t) => ({ id: t.id, state: state.get(t.id)! }));
  const start: QueueTorrentId[] = [];
  const toQueue: QueueTorrentId[] = [];
  for (const t of sorted) {
    const s = state.get(t.id)!;
    if (isRunState(s) && !t.running) start.push(t.id);
    if (isWaitState(s) && t.running) toQueue.push(t.id);
  }
  return { states, start, toQueue };
}

// --- The queue order: an array of ids, index = queue position. Every operation returns a new array.

/** The same names as `QueueMove` in the daemon's API. */
export type QueueMoveKind = 'top' | 'up' | 'down' | 'bottom';

/** Adds a new torrent at the end (Transmission: new torrents join the queue last). */
export function queueAppend(order: readonly QueueTorrentId[], id: QueueTorrentId): QueueTorrentId[] {
  return order.includes(id) ? [...order] : [...order, id];
}

/** Removes torrents; the others close up so the positions stay 0..n-1. */
export function queueRemove(
  order: readonly QueueTorrentId[],
  ids: Iterable<QueueTorrentId>,
): QueueTorrentId[] {
  const gone = new Set(ids);
  return order.filter((id) => !gone.has(id));
}

/** Moves one torrent to `position` (clamped to 0..n-1; NaN or an unknown id: no change); the ones in between shift by one. */
export function queueSetPosition(
  order: readonly QueueTorrentId[],
  id: QueueTorrentId,
  position: number,
): QueueTorrentId[] {
  const next = [...order];
  setPosition(next, id, position);
  return next;
}

function setPosition(order: QueueTorrentId[], id: QueueTorrentId, position: number): void {
  const from = order.indexOf(id);
  if (from < 0 || Number.isNaN(position)) return;
  const to = Math.min(Math.max(0, Math.floor(position)), order.length - 1);
  if (from === to) return;
  order.splice(from, 1);
  order.splice(to, 0, id);
}

/**
 * Moves a set of torrents as Transmission's `queue-move-*` do (unknown ids are ignored):
 * - `top`/`bottom`: the set goes to the top (bottom), keeping its own order.
 * - `up`/`down`: each moves one place, in order; a block already at the top (bottom) stays,
 *   and adjacent selected torrents move together without passing each other.
 */
export function queueMove(
  order: readonly QueueTorrentId[],
  ids: Iterable<QueueTorrentId>,
  move: QueueMoveKind,
): QueueTorrentId[] {
  const next = [...order];
  const index = new Map(order.map((id, i) => [id, i]));
  const selected = [...new Set(ids)].filter((id) => index.has(id));
  selected.sort((a, b) => index.get(a)! - index.get(b)!);
  if (move === 'top') {
    for (const id of [...selected].reverse()) setPosition(next, id, 0);
  } else if (move === 'bottom') {
    for (const id of selected) setPosition(next, id, next.length - 1);
  } else if (move === 'up') {
    let firstFree = 0;
    for (const id of selected) {
      const pos = next.indexOf(id);
      if (pos !== firstFree) setPosition(next, id, pos - 1);
      else firstFree++;
    }
  } else {
    let lastFree = next.length - 1;
    for (const id of selected.reverse()) {
      const pos = next.indexOf(id);
      if (pos !== lastFree) setPosition(next, id, pos + 1);
      else lastFree--;
    }
  }
  return next;
}
