/**
 * What the daemon keeps per torrent in `torrents/<hash>.json` (the metainfo itself is
 * `torrents/<hash>.torrent`): a pure codec, validating every field, so a corrupt or hand-edited
 * file is one `LODESTONE_ERR_DAEMON_STATE` error (the daemon skips that torrent with a warning).
 */
import { DaemonError } from '../errors.js';
import type { FilePriority, LimitMode, TorrentSettings, TorrentSummary } from './daemon-api.js';

export const TORRENT_STATE_VERSION = 1;

export interface TorrentState {
  /** Info-hash, 40 lowercase hex characters. */
  hash: string;
  /** The name shown (a magnet's `dn` until the metadata arrives). */
  name: string;
  /** The magnet URI while its metadata has not arrived (then the `.torrent` file holds it). */
  magnet: string | undefined;
  /** Absolute folder the files are in. */
  savePath: string;
  paused: boolean;
  addedDate: number;
  doneDate: number;
  activityDate: number;
  /** Totals of all earlier runs (the current run's bytes are added while it runs). */
  uploadedEver: number;
  downloadedEver: number;
  corruptEver: number;
  settings: TorrentSettings;
  /** Per file; `undefined` = all wanted (or not known yet). */
  filesWanted: boolean[] | undefined;
  filePriorities: FilePriority[] | undefined;
  queuePosition: number;
  /** Replaces the metainfo's trackers when set (`set` with `trackerList`). */
  trackerList: string[][] | undefined;
  /**
   * Every file's path (components from the download folder) after `torrent-rename-path`;
   * absent = the metainfo's own. With it, `name` is also the torrent's name on disk.
   */
  filePaths?: string[][] | undefined;
  /** Seeding was stopped by the idle limit (`isFinished` until the next start); absent = no. */
  stoppedByIdle?: true;
  error: TorrentSummary['error'];
}

export function defaultTorrentSettings(peerLimit: number): TorrentSettings {
  return {
    downloadLimit: undefined,
    uploadLimit: undefined,
    honorsSessionLimits: true,
    peerLimit,
    seedRatioMode: 'global',
    seedRatioLimit: 2,
    seedIdleMode: 'global',
    seedIdleLimit: 30,
    sequential: false,
    labels: [],
    bandwidthPriority: 'normal',
  };
}

export function encodeTorrentState(state: TorrentState): string {
  const { settings } = state;
  return `${JSON.stringify(
    {
      version: TORRENT_STATE_VERSION,
      ...state,
      settings: {
        ...settings,
        downloadLimit: settings.downloadLimit ?? null,
        uploadLimit: settings.uploadLimit ?? null,
      },
      magnet: state.magnet ?? null,
      filesWanted: state.filesWanted ?? null,
      filePriorities: state.filePriorities ?? null,
      trackerList: state.trackerList ?? null,
      filePaths: state.filePaths ?? null,
      error: state.error ?? null,
    },
    null,
    2,
  )}\n`;
}

function bad(message: string): DaemonError {
  return new DaemonError('LODESTONE_ERR_DAEMON_STATE', message);
}

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad(`${what} must be an object`);
  return value as Json;
}
function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw bad(`${what} must be a string`);
  return value;
}
function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw bad(`${what} must be true or false`);
  return value;
}
function count(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw bad(`${what} must be a whole number ≥ 0`);
  return value as number;
}
function ratio(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw bad(`${what} must be a number ≥ 0`);
  return value;
}
function optional<T>(value: unknown, read: (value: unknown) => T): T | undefined {
  return value === null || value === undefined ? undefined : read(value);
}
function oneOf<T extends string>(value: unknown, choices: readonly T[], what: string): T {
  if (!choices.includes(value as T)) throw bad(`${what} must be one of ${choices.join(', ')}`);
  return value as T;
}
function array<T>(
  value: unknown,
  what: string,
  read: (item: unknown, what: string) => T,
  max = 1_000_000,
): T[] {
  if (!Array.isArray(value) || value.length > max) throw bad(`${what} must be a list`);
  return value.map((item, index) => read(item, `${what}[${index}]`));
}

const PRIORITIES = ['low', 'normal', 'high'] as const;
const MODES: readonly LimitMode[] = ['global', 'single', 'unlimited'];

function decodeSettings(value: unknown): TorrentSettings {
  const s = object(value, 'settings');
  return {
    downloadLimit: optional(s.downloadLimit, (v) => count(v, 'settings.downloadLimit')),
    uploadLimit: optional(s.uploadLimit, (v) => count(v, 'settings.uploadLimit')),
    honorsSessionLimits: bool(s.honorsSessionLimits, 'settings.honorsSessionLimits'),
    peerLimit: count(s.peerLimit, 'settings.peerLimit'),
    seedRatioMode: oneOf(s.seedRatioMode, MODES, 'settings.seedRatioMode'),
    seedRatioLimit: ratio(s.seedRatioLimit, 'settings.seedRatioLimit'),
    seedIdleMode: oneOf(s.seedIdleMode, MODES, 'settings.seedIdleMode'),
    seedIdleLimit: count(s.seedIdleLimit, 'settings.seedIdleLimit'),
    sequential: bool(s.sequential, 'settings.sequential'),
    labels: array(s.labels, 'settings.labels', string, 1000),
    bandwidthPriority: oneOf(s.bandwidthPriority, PRIORITIES, 'settings.bandwidthPriority'),
  };
}

/** Parses a state file's text; anything wrong is a DaemonError (LODESTONE_ERR_DAEMON_STATE). */
export function decodeTorrentState(text: string): TorrentState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('not valid JSON');
  }
  const o = object(parsed, 'the state');
  if (o.version !== TORRENT_STATE_VERSION) throw bad(`unknown state version ${JSON.stringify(o.version)}`);
  const hash = string(o.hash, 'hash');
  if (!/^[0-9a-f]{40}$/.test(hash)) throw bad('hash must be 40 lowercase hex characters');
  const error = optional(o.error, (v) => {
    const e = object(v, 'error');
    return {
      kind: oneOf(e.kind, ['tracker-warning', 'tracker-error', 'local'] as const, 'error.kind'),
      message: string(e.message, 'error.message'),
    };
  });
  // Older state files have none; the components are checked against the torrent at restore.
  const filePaths = optional(o.filePaths, (v) =>
    array(v, 'filePaths', (path, what) => array(path, what, string, 4096)),
  );
  return {
    hash,
    name: string(o.name, 'name'),
    magnet: optional(o.magnet, (v) => string(v, 'magnet')),
    savePath: string(o.savePath, 'savePath'),
    paused: bool(o.paused, 'paused'),
    addedDate: count(o.addedDate, 'addedDate'),
    doneDate: count(o.doneDate, 'doneDate'),
    activityDate: count(o.activityDate, 'activityDate'),
    uploadedEver: count(o.uploadedEver, 'uploadedEver'),
    downloadedEver: count(o.downloadedEver, 'downloadedEver'),
    corruptEver: count(o.corruptEver, 'corruptEver'),
    settings: decodeSettings(o.settings),
    filesWanted: optional(o.filesWanted, (v) => array(v, 'filesWanted', bool)),
    filePriorities: optional(o.filePriorities, (v) =>
      array(v, 'filePriorities', (item, what) => oneOf(item, PRIORITIES, what)),
    ),
    queuePosition: count(o.queuePosition, 'queuePosition'),
    trackerList: optional(o.trackerList, (v) =>
      array(v, 'trackerList', (tier, what) => array(tier, what, string, 1000), 1000),
    ),
    error,
    ...(filePaths !== undefined ? { filePaths } : {}),
    ...(optional(o.stoppedByIdle, (v) => bool(v, 'stoppedByIdle')) === true
      ? { stoppedByIdle: true as const }
      : {}),
  };
}

/** `stats.json`: totals over every run of the daemon on this state folder. */
export interface CumulativeStats {
  uploadedBytes: number;
  downloadedBytes: number;
  filesAdded: number;
  sessionCount: number;
  secondsActive: number;
}

export function decodeStats(text: string): CumulativeStats {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('stats.json is not valid JSON');
  }
  const o = object(parsed, 'stats');
  return {
    uploadedBytes: count(o.uploadedBytes, 'uploadedBytes'),
    downloadedBytes: count(o.downloadedBytes, 'downloadedBytes'),
    filesAdded: count(o.filesAdded, 'filesAdded'),
    sessionCount: count(o.sessionCount, 'sessionCount'),
    secondsActive: count(o.secondsActive, 'secondsActive'),
  };
}
