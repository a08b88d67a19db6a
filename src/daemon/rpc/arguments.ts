/**
 * Transmission's RPC arguments read into the daemon contract: `ids` into a {@link TorrentSelector},
 * `torrent-set` into a {@link TorrentPatch}, `torrent-add` options into an {@link AddRequest},
 * `session-set` into settings keys. Pure; a wrong type is an {@link RpcArgumentError} whose
 * message becomes the response's `result`.
 */
import type {
  AddRequest,
  FilePriority,
  LimitMode,
  TorrentPatch,
  TorrentSelector,
  TorrentSettings,
} from '../daemon-api.js';
import { SPEED_K } from './torrent-fields.js';

/** A request argument of the wrong type or range; its message is the RPC `result`. */
export class RpcArgumentError extends Error {}

export type Args = Record<string, unknown>;

const HASH = /^[0-9a-f]{40}$/i;

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * `ids` as Transmission reads it: absent = all torrents, a number, a hash string,
 * `"recently-active"`, or a list of numbers and hashes (other entries are ignored, as Transmission does).
 */
export function parseIds(ids: unknown): TorrentSelector {
  if (ids === undefined) return undefined;
  if (ids === 'recently-active') return 'recently-active';
  if (isInteger(ids)) return [ids];
  if (typeof ids === 'string') return HASH.test(ids) ? [ids.toLowerCase()] : [];
  if (Array.isArray(ids)) {
    const selected: Array<number | string> = [];
    for (const id of ids) {
      if (isInteger(id)) selected.push(id);
      else if (typeof id === 'string' && HASH.test(id)) selected.push(id.toLowerCase());
    }
    return selected;
  }
  throw new RpcArgumentError('invalid ids');
}

function integer(args: Args, key: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (!isInteger(value) || value < min) throw new RpcArgumentError(`invalid ${key}`);
  return value;
}

function number(args: Args, key: string): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RpcArgumentError(`invalid ${key}`);
  return value;
}

function boolean(args: Args, key: string): boolean | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  // Transmission reads 0/1 as booleans too.
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== 'boolean') throw new RpcArgumentError(`invalid ${key}`);
  return value;
}

export function string(args: Args, key: string): string | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new RpcArgumentError(`invalid ${key}`);
  return value;
}

/** A list of file indexes; Transmission's empty list means "all files". */
function indexes(args: Args, key: string, fileCount?: number): number[] | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((i) => isInteger(i) && i >= 0)) {
    throw new RpcArgumentError(`invalid ${key}`);
  }
  if (value.length === 0 && fileCount !== undefined) return [...Array(fileCount).keys()];
  return value as number[];
}

function priority(value: number | undefined, key: string): FilePriority | undefined {
  if (value === undefined) return undefined;
  if (value === -1) return 'low';
  if (value === 0) return 'normal';
  if (value === 1) return 'high';
  throw new RpcArgumentError(`invalid ${key}`);
}

function mode(value: number | undefined, key: string): LimitMode | undefined {
  if (value === undefined) return undefined;
  const modes: LimitMode[] = ['global', 'single', 'unlimited'];
  const found = modes[value];
  if (found === undefined) throw new RpcArgumentError(`invalid ${key}`);
  return found;
}

function labels(args: Args): string[] | undefined {
  const value = args.labels;
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((l) => typeof l === 'string'))
    throw new RpcArgumentError('invalid labels');
  // Transmission refuses commas in labels (they separate labels on its command line).
  if (value.some((l) => l.includes(',')))
    throw new RpcArgumentError('labels cannot contain comma (,) character');
  return [...new Set(value.map((l) => l.trim()).filter((l) => l !== ''))];
}

/** A per-torrent speed limit: kB/s in the RPC, bytes/s (or none) in the contract. */
function speedLimit(
  args: Args,
  limitKey: string,
  enabledKey: string,
): { set: boolean; value: number | undefined } {
  const limit = integer(args, limitKey, 0);
  const enabled = boolean(args, enabledKey);
  if (enabled === false) return { set: true, value: undefined };
  // A limit without `…Limited` sets it and turns it on: the contract has no stored-but-off limit.
  if (limit !== undefined) return { set: true, value: limit * SPEED_K };
  return { set: false, value: undefined };
}

/** `torrent-set` arguments (and the per-torrent ones of `torrent-add`) as settings. */
export function torrentSettingsFromArgs(args: Args): Partial<TorrentSettings> {
  const settings: Partial<TorrentSettings> = {};
  const down = speedLimit(args, 'downloadLimit', 'downloadLimited');
  if (down.set) settings.downloadLimit = down.value;
  const up = speedLimit(args, 'uploadLimit', 'uploadLimited');
  if (up.set) settings.uploadLimit = up.value;
  const honors = boolean(args, 'honorsSessionLimits');
  if (honors !== undefined) settings.honorsSessionLimits = honors;
  const peerLimit = integer(args, 'peer-limit', 1);
  if (peerLimit !== undefined) settings.peerLimit = peerLimit;
  const ratioMode = mode(integer(args, 'seedRatioMode'), 'seedRatioMode');
  if (ratioMode !== undefined) settings.seedRatioMode = ratioMode;
  const ratioLimit = number(args, 'seedRatioLimit');
  if (ratioLimit !== undefined) settings.seedRatioLimit = ratioLimit;
  const idleMode = mode(integer(args, 'seedIdleMode'), 'seedIdleMode');
  if (idleMode !== undefined) settings.seedIdleMode = idleMode;
  const idleLimit = integer(args, 'seedIdleLimit', 0);
  if (idleLimit !== undefined) settings.seedIdleLimit = idleLimit;
  const sequential = boolean(args, 'sequentialDownload');
  if (sequential !== undefined) settings.sequential = sequential;
  const torrentLabels = labels(args);
  if (torrentLabels !== undefined) settings.labels = torrentLabels;
  const bandwidth = priority(integer(args, 'bandwidthPriority'), 'bandwidthPriority');
  if (bandwidth !== undefined) settings.bandwidthPriority = bandwidth;
  return settings;
}

/** RPC 17's `trackerList`: one announce URL per line, a blank line between tiers. */
export function parseTrackerList(text: string): string[][] {
  return text
    .split(/\r?\n\s*\r?\n/)
    .map((tier) =>
      tier
        .split(/\r?\n/)
        .map((url) => url.trim())
        .filter((url) => url !== ''),
    )
    .filter((tier) => tier.length > 0);
}

/** `torrent-set` arguments as a patch (`ids` and `location` are the caller's business). */
export function torrentPatchFromArgs(args: Args): TorrentPatch {
  const patch: TorrentPatch = torrentSettingsFromArgs(args);
  const wanted = indexes(args, 'files-wanted');
  if (wanted !== undefined) patch.filesWanted = wanted;
  const unwanted = indexes(args, 'files-unwanted');
  if (unwanted !== undefined) patch.filesUnwanted = unwanted;
  const high = indexes(args, 'priority-high');
  if (high !== undefined) patch.priorityHigh = high;
  const normal = indexes(args, 'priority-normal');
  if (normal !== undefined) patch.priorityNormal = normal;
  const low = indexes(args, 'priority-low');
  if (low !== undefined) patch.priorityLow = low;
  const queuePosition = integer(args, 'queuePosition', 0);
  if (queuePosition !== undefined) patch.queuePosition = queuePosition;
  const trackerList = string(args, 'trackerList');
  if (trackerList !== undefined) patch.trackerList = parseTrackerList(trackerList);
  return patch;
}

/** Which `torrent-set` arguments are accepted but not applied (their names, for the log). */
export const UNSUPPORTED_TORRENT_SET = ['trackerAdd', 'trackerRemove', 'trackerReplace'] as const;

/** `torrent-add` arguments other than the source. */
export function addOptionsFromArgs(args: Args): Omit<AddRequest, 'source'> {
  const request: Omit<AddRequest, 'source'> = {};
  const paused = boolean(args, 'paused');
  if (paused !== undefined) request.paused = paused;
  const dir = string(args, 'download-dir');
  if (dir !== undefined && dir !== '') request.downloadDir = dir;
  const wanted = indexes(args, 'files-wanted');
  if (wanted !== undefined) request.filesWanted = wanted;
  const unwanted = indexes(args, 'files-unwanted');
  if (unwanted !== undefined) request.filesUnwanted = unwanted;
  const high = indexes(args, 'priority-high');
  if (high !== undefined) request.priorityHigh = high;
  const normal = indexes(args, 'priority-normal');
  if (normal !== undefined) request.priorityNormal = normal;
  const low = indexes(args, 'priority-low');
  if (low !== undefined) request.priorityLow = low;
  const settings: Partial<TorrentSettings> = {};
  const peerLimit = integer(args, 'peer-limit', 1);
  if (peerLimit !== undefined) settings.peerLimit = peerLimit;
  const bandwidth = priority(integer(args, 'bandwidthPriority'), 'bandwidthPriority');
  if (bandwidth !== undefined) settings.bandwidthPriority = bandwidth;
  const torrentLabels = labels(args);
  if (torrentLabels !== undefined) settings.labels = torrentLabels;
  if (Object.keys(settings).length > 0) request.settings = settings;
  return request;
}

/** Transmission's RPC `encryption` strings for the settings file's 0/1/2. */
export const ENCRYPTION_NAMES = ['tolerated', 'preferred', 'required'] as const;

/** Settings keys `session-set` may change, under their RPC names; others are ignored as Transmission does. */
const SESSION_SET_KEYS = [
  'download-dir',
  'start-added-torrents',
  'peer-port',
  'peer-limit-global',
  'peer-limit-per-torrent',
  'dht-enabled',
  'pex-enabled',
  'utp-enabled',
  'lpd-enabled',
  'port-forwarding-enabled',
  'speed-limit-down',
  'speed-limit-down-enabled',
  'speed-limit-up',
  'speed-limit-up-enabled',
  'alt-speed-down',
  'alt-speed-up',
  'alt-speed-enabled',
  'alt-speed-time-enabled',
  'alt-speed-time-begin',
  'alt-speed-time-end',
  'alt-speed-time-day',
  'download-queue-enabled',
  'download-queue-size',
  'seed-queue-enabled',
  'seed-queue-size',
  'queue-stalled-enabled',
  'queue-stalled-minutes',
  'idle-seeding-limit',
  'idle-seeding-limit-enabled',
  'cache-size-mb',
  'open-file-limit',
] as const;

/**
 * `session-set` arguments as a settings patch with the settings file's names. The RPC's
 * `seedRatioLimit`/`seedRatioLimited` become `ratio-limit`/`ratio-limit-enabled` and `encryption`
 * a number. Never the `rpc-*` keys: a request cannot widen its own access.
 */
export function settingsPatchFromArgs(args: Args): { patch: Record<string, unknown>; ignored: string[] } {
  const patch: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(args)) {
    if ((SESSION_SET_KEYS as readonly string[]).includes(key)) patch[key] = value;
    else if (key === 'seedRatioLimit') patch['ratio-limit'] = value;
    else if (key === 'seedRatioLimited') patch['ratio-limit-enabled'] = value;
    else if (key === 'encryption') {
      const index = (ENCRYPTION_NAMES as readonly unknown[]).indexOf(value);
      if (index < 0) throw new RpcArgumentError('invalid encryption');
      patch.encryption = index;
    } else ignored.push(key);
  }
  return { patch, ignored };
}
