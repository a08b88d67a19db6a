/**
 * The long-running client: many torrents, settings with Transmission's key names, a state
 * folder, and the contract its drivers (the Transmission-compatible RPC, the CLI) use.
 *
 * @module lodestone/daemon
 */

export {
  Daemon,
  type DaemonEvents,
  type DaemonOptions,
  type DaemonSettingsUpdate,
  type LogLevel,
} from './daemon.js';
export type {
  AddRequest,
  AddResult,
  AddSource,
  DaemonApi,
  DaemonSessionStats,
  DaemonTorrent,
  FilePriority,
  LimitMode,
  QueueMove,
  SettingsUpdate,
  TorrentFileView,
  TorrentId,
  TorrentPatch,
  TorrentPeerView,
  TorrentSelector,
  TorrentSettings,
  TorrentStatus,
  TorrentSummary,
  TorrentTrackerView,
  TransferTotals,
} from './daemon-api.js';
export {
  MAX_BODY_BYTES,
  RPC_METHODS,
  RPC_VERSION,
  RPC_VERSION_MINIMUM,
  type RpcLog,
  type RpcServer,
  type RpcServerOptions,
  startRpcServer,
  TORRENT_FIELDS,
} from './rpc/index.js';
export { defaultSettings, type ValidatedPatch, validateSettingsPatch } from './settings.js';
export type { DaemonSettings } from './settings-types.js';
