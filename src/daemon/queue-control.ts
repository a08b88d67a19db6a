/**
 * The daemon's glue to the pure queue, stalled and seed-limit policies (docs/queue.md): the facts
 * each policy reads, taken from a daemon torrent, and the queue order kept as the daemon's list.
 * No I/O here: the daemon starts and stops what these functions name.
 */

import {
  checkSeedLimits,
  effectiveIdleMinutes,
  effectiveSeedRatio,
  type SeedFacts,
  type SeedLimitVerdict,
} from '../policy/seed-limits.js';
import { type ActivityFacts, isStalled } from '../policy/torrent-activity.js';
import {
  decideQueue,
  type QueueDecision,
  type QueueMoveKind,
  type QueueTorrent,
  queueMove,
  queueSetPosition,
} from '../policy/torrent-queue.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import type { DaemonSettings } from './settings-types.js';

/** A session or a metadata fetch is under way. */
export function isRunning(entry: DaemonTorrentEntry): boolean {
  return entry.session !== undefined || entry.fetching !== undefined;
}

export function activityFacts(entry: DaemonTorrentEntry): ActivityFacts {
  return {
    running: isRunning(entry),
    startedAt: entry.startDateMs,
    lastActiveAt: entry.state.activityDate,
  };
}

const sizes = new WeakMap<DaemonTorrentEntry, { wanted: boolean[] | undefined; size: number }>();

/** Bytes of the wanted files (O(files) after a selection change, then O(1)). */
export function sizeWhenDone(entry: DaemonTorrentEntry): number {
  const meta = entry.meta;
  if (!meta) return 0;
  const wanted = entry.state.filesWanted;
  const known = sizes.get(entry);
  if (known !== undefined && known.wanted === wanted) return known.size;
  let size = 0;
  meta.files.forEach((file, index) => {
    if (wanted?.[index] ?? true) size += file.length;
  });
  sizes.set(entry, { wanted, size });
  return size;
}

/** The seed-limit facts of a torrent (its run's uploaded bytes included). */
export function seedFacts(
  entry: DaemonTorrentEntry,
  known: { done?: boolean; sizeWhenDone?: number; haveValid?: number } = {},
): SeedFacts {
  const settings = entry.state.settings;
  return {
    ...activityFacts(entry),
    done: known.done ?? entry.complete,
    uploadedEver: entry.state.uploadedEver + entry.runBytes.uploaded,
    sizeWhenDone: known.sizeWhenDone ?? sizeWhenDone(entry),
    haveValid: known.haveValid ?? entry.verifiedBytes(),
    seedRatioMode: settings.seedRatioMode,
    seedRatioLimit: settings.seedRatioLimit,
    seedIdleMode: settings.seedIdleMode,
    seedIdleLimit: settings.seedIdleLimit,
  };
}

/** The queue facts of a torrent; `stalled` is refreshed in `entry.stalled` as a side effect. */
export function queueFacts(entry: DaemonTorrentEntry, settings: DaemonSettings, now: number): QueueTorrent {
  const running = isRunning(entry);
  entry.stalled = running && isStalled(activityFacts(entry), settings, now);
  return {
    id: entry.id,
    position: entry.state.queuePosition,
    wantsToRun: !entry.state.paused,
    done: entry.complete,
    running,
    stalled: entry.stalled,
    bypassQueue: entry.bypassQueue,
    error: entry.state.error?.kind === 'local',
    // A verify takes no slot (the check at an ordinary start is part of the run and does); a
    // torrent the daemon is stopping, moving or removing is left alone as one being checked is.
    checking: (entry.verifying && running) || entry.busy,
  };
}

/** Decides the queue over every torrent (in queue order); the facts it read come with it. */
export function planQueue(
  entries: readonly DaemonTorrentEntry[],
  settings: DaemonSettings,
  now: number,
): { facts: QueueTorrent[]; decision: QueueDecision } {
  const facts = entries.map((entry) => queueFacts(entry, settings, now));
  return { facts, decision: decideQueue(facts, settings) };
}

/**
 * Has any running torrent's stalled state changed since the last plan (O(torrents), no piece
 * scan)? The daemon's one-second tick asks, and plans again when it has.
 */
export function stalledChanged(
  entries: readonly DaemonTorrentEntry[],
  settings: DaemonSettings,
  now: number,
): boolean {
  if (!settings['queue-stalled-enabled']) return entries.some((entry) => entry.stalled);
  return entries.some(
    (entry) => (isRunning(entry) && isStalled(activityFacts(entry), settings, now)) !== entry.stalled,
  );
}

/**
 * The seed-limit verdict for a running torrent, or `undefined` when none applies to it (cheap:
 * O(1) for a torrent without a limit, O(files + pieces) for one with).
 */
export function seedVerdict(
  entry: DaemonTorrentEntry,
  settings: DaemonSettings,
  now: number,
): SeedLimitVerdict | undefined {
  if (!isRunning(entry) || entry.phase !== 'running') return undefined;
  const own = entry.state.settings;
  if (effectiveSeedRatio(own, settings) === undefined && effectiveIdleMinutes(own, settings) === undefined)
    return undefined;
  // `haveValid` is only read by `isFinished`, not by the check: not computed here (O(pieces)).
  return checkSeedLimits(seedFacts(entry, { haveValid: 0 }), settings, now);
}

/** Puts `entries` (the daemon's list) in `order` (ids) and renumbers every `queuePosition` 0..n-1. */
export function reorder(entries: DaemonTorrentEntry[], order: readonly number[]): void {
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const next = order.map((id) => byId.get(id)).filter((entry) => entry !== undefined);
  // Anything the order missed keeps its relative place at the end (never lost).
  const placed = new Set(next);
  for (const entry of entries) if (!placed.has(entry)) next.push(entry);
  entries.splice(0, entries.length, ...next);
  renumber(entries);
}

export function renumber(entries: readonly DaemonTorrentEntry[]): void {
  entries.forEach((entry, index) => {
    entry.state.queuePosition = index;
  });
}

/** `queue-move-*` over the daemon's list. */
export function moveEntries(
  entries: DaemonTorrentEntry[],
  selected: readonly DaemonTorrentEntry[],
  move: QueueMoveKind,
): void {
  const ids = entries.map((entry) => entry.id);
  reorder(
    entries,
    queueMove(
      ids,
      selected.map((entry) => entry.id),
      move,
    ),
  );
}

/** `torrent-set` `queuePosition` over the daemon's list. */
export function setEntryPosition(
  entries: DaemonTorrentEntry[],
  entry: DaemonTorrentEntry,
  position: number,
): void {
  reorder(
    entries,
    queueSetPosition(
      entries.map((item) => item.id),
      entry.id,
      position,
    ),
  );
}
