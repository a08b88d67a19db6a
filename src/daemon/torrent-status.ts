/** Pure mappings of the daemon: a torrent's phase to Transmission's seven states, selectors to torrents. */
import type { TorrentId, TorrentSelector, TorrentStatus } from './daemon-api.js';

/** Where a torrent is in its life, as the daemon tracks it. */
export type TorrentPhase =
  /** Paused by the user (or never started). */
  | 'stopped'
  /** A verify was asked and has not begun. */
  | 'check-wait'
  /** Its files are being checked (at start, or a verify). */
  | 'checking'
  /** Waiting for a download slot (the queue). */
  | 'queued'
  /** A magnet fetching its metadata, or a torrent exchanging pieces. */
  | 'running';

export function torrentStatus(phase: TorrentPhase, complete: boolean): TorrentStatus {
  switch (phase) {
    case 'stopped':
      return 'stopped';
    case 'check-wait':
      return 'check-wait';
    case 'checking':
      return 'checking';
    case 'queued':
      return complete ? 'seed-wait' : 'download-wait';
    case 'running':
      return complete ? 'seeding' : 'downloading';
  }
}

/**
 * The torrents a selector names, in `ordered` order: all (`undefined`), ids and hashes (any case;
 * unknown ones skipped), or those active within `windowMs` of `now` (`'recently-active'`).
 */
export function selectTorrents<T extends { id: TorrentId; hash: string; activityMs: number }>(
  ordered: readonly T[],
  selector: TorrentSelector,
  now: number,
  windowMs = 60_000,
): T[] {
  if (selector === undefined) return [...ordered];
  if (selector === 'recently-active') return ordered.filter((t) => now - t.activityMs <= windowMs);
  const ids = new Set<number>();
  const hashes = new Set<string>();
  for (const item of selector) {
    if (typeof item === 'number') ids.add(item);
    else if (typeof item === 'string') hashes.add(item.toLowerCase());
  }
  return ordered.filter((t) => ids.has(t.id) || hashes.has(t.hash));
}

/**
 * When a torrent last did anything or had anything done to it (Transmission's `anyDate`): the
 * latest of its add, start, transfer, completion and user change (start, stop, verify, set,
 * move). `'recently-active'` is measured from this, so a client polling it (Transmission's web
 * client does, every few seconds) sees a torrent just added paused, or just stopped.
 */
export function lastTouchedMs(entry: {
  state: { addedDate: number; activityDate: number; doneDate: number };
  startDateMs: number;
  changedAtMs: number;
}): number {
  const { state } = entry;
  return Math.max(state.addedDate, state.activityDate, state.doneDate, entry.startDateMs, entry.changedAtMs);
}
