/**
 * `set` (and the per-torrent parts of `add`): checks a {@link TorrentPatch} against one torrent,
 * then writes it into the torrent's state. Run once with `dryRun` for every torrent first, so a
 * patch one torrent refuses changes none. What the patch asks is kept and shown; applying it to
 * the running session is the daemon's `#apply…` methods' business.
 */
import { DaemonError } from '../errors.js';
import type { FilePriority, LimitMode, QueueMove, TorrentPatch, TorrentSettings } from './daemon-api.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';

function refuse(message: string): DaemonError {
  return new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', message);
}

const MODES: readonly LimitMode[] = ['global', 'single', 'unlimited'];
const PRIORITIES: readonly FilePriority[] = ['low', 'normal', 'high'];

function wholeNumber(value: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max)
    throw refuse(`${what} must be a whole number from ${min} to ${max}`);
  return value as number;
}

function checkSettings(patch: Partial<TorrentSettings>): void {
  for (const key of ['downloadLimit', 'uploadLimit'] as const)
    if (patch[key] !== undefined) wholeNumber(patch[key], key);
  for (const key of ['honorsSessionLimits', 'sequential'] as const)
    if (patch[key] !== undefined && typeof patch[key] !== 'boolean')
      throw refuse(`${key} must be true or false`);
  if (patch.peerLimit !== undefined) wholeNumber(patch.peerLimit, 'peerLimit', 1, 65535);
  for (const key of ['seedRatioMode', 'seedIdleMode'] as const)
    if (patch[key] !== undefined && !MODES.includes(patch[key]))
      throw refuse(`${key} must be one of ${MODES.join(', ')}`);
  if (
    patch.seedRatioLimit !== undefined &&
    (typeof patch.seedRatioLimit !== 'number' ||
      !Number.isFinite(patch.seedRatioLimit) ||
      patch.seedRatioLimit < 0)
  )
    throw refuse('seedRatioLimit must be a number ≥ 0');
  if (patch.seedIdleLimit !== undefined) wholeNumber(patch.seedIdleLimit, 'seedIdleLimit');
  if (patch.bandwidthPriority !== undefined && !PRIORITIES.includes(patch.bandwidthPriority))
    throw refuse(`bandwidthPriority must be one of ${PRIORITIES.join(', ')}`);
  if (patch.labels !== undefined) {
    if (!Array.isArray(patch.labels) || patch.labels.length > 1000)
      throw refuse('labels must be a list of strings');
    for (const label of patch.labels)
      if (typeof label !== 'string' || label.includes(',') || label.length > 1000)
        throw refuse('a label must be a string without commas');
  }
}

const FILE_LISTS = ['filesWanted', 'filesUnwanted', 'priorityHigh', 'priorityNormal', 'priorityLow'] as const;

function checkFileLists(entry: DaemonTorrentEntry, patch: TorrentPatch): void {
  for (const key of FILE_LISTS) {
    const list = patch[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw refuse(`${key} must be a list of file indexes`);
    // Transmission: an empty list means every file.
    if (list.length === 0) continue;
    if (!entry.meta) throw refuse(`torrent ${entry.id}: its file list is not known yet (no metadata)`);
    for (const index of list) wholeNumber(index, `${key} index`, 0, entry.meta.files.length - 1);
  }
}

function checkTrackers(list: unknown): string[][] {
  if (!Array.isArray(list) || list.length > 1000) throw refuse('trackerList must be a list of tiers');
  return list.map((tier) => {
    if (!Array.isArray(tier) || tier.length > 1000) throw refuse('a tracker tier must be a list of URLs');
    return tier.map((url) => {
      let parsed: URL;
      try {
        parsed = new URL(String(url));
      } catch {
        throw refuse(`invalid tracker URL ${JSON.stringify(url)}`);
      }
      if (typeof url !== 'string' || !['http:', 'https:', 'udp:'].includes(parsed.protocol))
        throw refuse(`invalid tracker URL ${JSON.stringify(url)} (http, https or udp)`);
      return url;
    });
  });
}

const SETTING_KEYS: readonly (keyof TorrentSettings)[] = [
  'downloadLimit',
  'uploadLimit',
  'honorsSessionLimits',
  'peerLimit',
  'seedRatioMode',
  'seedRatioLimit',
  'seedIdleMode',
  'seedIdleLimit',
  'sequential',
  'labels',
  'bandwidthPriority',
];

/** Checks `patch` for `entry` (throws `LODESTONE_ERR_DAEMON_TORRENT`); unless `dryRun`, writes it into the state. */
export function applyPatch(
  entry: DaemonTorrentEntry,
  patch: TorrentPatch,
  options: { dryRun: boolean },
): void {
  if (typeof patch !== 'object' || patch === null) throw refuse('the patch must be an object');
  checkSettings(patch);
  checkFileLists(entry, patch);
  if (patch.queuePosition !== undefined) wholeNumber(patch.queuePosition, 'queuePosition');
  const trackers = patch.trackerList !== undefined ? checkTrackers(patch.trackerList) : undefined;
  if (options.dryRun) return;
  const state = entry.state;
  const settings = { ...state.settings } as Record<string, unknown>;
  for (const key of SETTING_KEYS) if (key in patch) settings[key] = patch[key];
  state.settings = settings as unknown as TorrentSettings;
  if (patch.labels) state.settings.labels = [...patch.labels];
  const count = entry.meta?.files.length ?? 0;
  const all = (list: number[] | undefined): number[] | undefined =>
    list === undefined ? undefined : list.length === 0 ? [...Array(count).keys()] : list;
  const wanted = all(patch.filesWanted);
  const unwanted = all(patch.filesUnwanted);
  if (count > 0 && (wanted || unwanted)) {
    const flags = state.filesWanted ? [...state.filesWanted] : new Array<boolean>(count).fill(true);
    for (const index of wanted ?? []) flags[index] = true;
    for (const index of unwanted ?? []) flags[index] = false;
    state.filesWanted = flags;
  }
  const priorities: [number[] | undefined, FilePriority][] = [
    [all(patch.priorityHigh), 'high'],
    [all(patch.priorityNormal), 'normal'],
    [all(patch.priorityLow), 'low'],
  ];
  if (count > 0 && priorities.some(([list]) => list)) {
    const levels = state.filePriorities
      ? [...state.filePriorities]
      : new Array<FilePriority>(count).fill('normal');
    for (const [list, level] of priorities) for (const index of list ?? []) levels[index] = level;
    state.filePriorities = levels;
  }
  if (trackers) state.trackerList = trackers;
}

/** Moves `entry` to position `to` of the queue (clamped) and renumbers every position. */
export function moveInQueue(queue: DaemonTorrentEntry[], entry: DaemonTorrentEntry, to: number): void {
  const at = queue.indexOf(entry);
  if (at < 0) return;
  queue.splice(at, 1);
  queue.splice(Math.max(0, Math.min(queue.length, to)), 0, entry);
  queue.forEach((item, index) => {
    item.state.queuePosition = index;
  });
}

/** Where `queueMove` puts a torrent now at `at`, in a queue whose last position is `last`. */
export function queueTarget(move: QueueMove, at: number, last: number): number {
  if (move === 'top') return 0;
  if (move === 'bottom') return last;
  return move === 'up' ? Math.max(0, at - 1) : Math.min(last, at + 1);
}
