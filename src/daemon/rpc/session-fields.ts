/**
 * The daemon's settings and totals as Transmission's `session-get` and `session-stats` show
 * them. Pure: the caller passes the settings, stats and the free space it measured.
 */
import type { DaemonSessionStats, TransferTotals } from '../daemon-api.js';
import type { DaemonSettings } from '../settings-types.js';
import { ENCRYPTION_NAMES } from './arguments.js';

/** The RPC version spoken (Transmission 4.0's); the oldest clients' version is still understood. */
export const RPC_VERSION = 17;
export const RPC_VERSION_MINIMUM = 1;

/** Transmission's `units` object: speeds, sizes and memory in its (decimal/binary) units. */
const UNITS = {
  'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
  'speed-bytes': 1000,
  'size-units': ['kB', 'MB', 'GB', 'TB'],
  'size-bytes': 1000,
  'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
  'memory-bytes': 1024,
};

export interface SessionContext {
  version: string;
  sessionId: string;
  configDir: string;
  /** Free bytes of the download folder's file system; -1 when it could not be measured. */
  downloadDirFreeSpace: number;
}

/** Every `session-get` value. `rpc-*` settings (the password above all) are never shown. */
export function sessionValues(
  settings: Readonly<DaemonSettings>,
  context: SessionContext,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (key.startsWith('rpc-') || key === 'message-level') continue;
    if (key === 'ratio-limit' || key === 'ratio-limit-enabled' || key === 'encryption') continue;
    values[key] = value;
  }
  return {
    ...values,
    encryption: ENCRYPTION_NAMES[settings.encryption] ?? 'preferred',
    seedRatioLimit: settings['ratio-limit'],
    seedRatioLimited: settings['ratio-limit-enabled'],
    'rpc-version': RPC_VERSION,
    'rpc-version-minimum': RPC_VERSION_MINIMUM,
    'rpc-version-semver': '5.3.0',
    version: context.version,
    'session-id': context.sessionId,
    'config-dir': context.configDir,
    'download-dir-free-space': context.downloadDirFreeSpace,
    units: UNITS,
    // Not implemented in Lodestone: reported off and empty, so clients show them disabled.
    'blocklist-enabled': false,
    'blocklist-size': 0,
    'blocklist-url': '',
    'incomplete-dir': '',
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    'trash-original-torrent-files': false,
    'script-torrent-done-enabled': false,
    'script-torrent-done-filename': '',
    'peer-port-random-on-start': false,
    'default-trackers': '',
  };
}

/** `session-get` with `fields`: only those (unknown names skipped); without, everything. */
export function selectSessionFields(
  values: Record<string, unknown>,
  fields: unknown,
): Record<string, unknown> {
  if (!Array.isArray(fields) || fields.length === 0) return values;
  const selected: Record<string, unknown> = {};
  for (const field of fields) {
    if (typeof field === 'string' && Object.hasOwn(values, field)) selected[field] = values[field];
  }
  return selected;
}

function totals(t: TransferTotals): Record<string, number> {
  return {
    uploadedBytes: t.uploadedBytes,
    downloadedBytes: t.downloadedBytes,
    filesAdded: t.filesAdded,
    sessionCount: t.sessionCount,
    secondsActive: t.secondsActive,
  };
}

export function sessionStats(stats: DaemonSessionStats): Record<string, unknown> {
  return {
    activeTorrentCount: stats.activeTorrentCount,
    downloadSpeed: Math.round(stats.downloadSpeed),
    pausedTorrentCount: stats.pausedTorrentCount,
    torrentCount: stats.torrentCount,
    uploadSpeed: Math.round(stats.uploadSpeed),
    'cumulative-stats': totals(stats.cumulative),
    'current-stats': totals(stats.current),
  };
}
