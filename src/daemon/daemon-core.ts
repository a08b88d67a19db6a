/** What the daemon's actions (daemon-actions.ts, daemon-add.ts) work on: the Daemon's insides. */
import type { TorrentId, TorrentSelector } from './daemon-api.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import type { Scheduler } from './scheduler.js';
import type { DaemonSettings } from './settings-types.js';
import type { StateFolder } from './state-folder.js';
import type { LogLevel, RunnerContext } from './torrent-runner.js';
import type { TorrentState } from './torrent-state.js';

/** A torrent being added: its files not yet durable. */
export interface PendingAdd {
  entry: DaemonTorrentEntry;
  /** Settles with whether the add went through. */
  done: Promise<boolean>;
  settle(ok: boolean): void;
}

export interface DaemonCore {
  /** Every torrent, in queue order. */
  readonly torrents: DaemonTorrentEntry[];
  /** Torrents being added, by hash. */
  readonly adding: Map<string, PendingAdd>;
  /** Torrents removed, with when (the last minute is kept). */
  readonly removed: { id: TorrentId; at: number }[];
  readonly folder: StateFolder;
  readonly runner: RunnerContext;
  readonly scheduler: Scheduler;
  settings(): Readonly<DaemonSettings>;
  now(): number;
  log(level: LogLevel, message: string): void;
  /** Throws LODESTONE_ERR_DAEMON_STATE once the daemon is closed. */
  assertOpen(): void;
  select(selector: TorrentSelector): DaemonTorrentEntry[];
  newEntry(state: TorrentState): DaemonTorrentEntry;
  /** Counts an added torrent in the session's and the cumulative stats. */
  countAdded(): void;
  /** Writes its state file (when changed); errors are logged. */
  save(entry: DaemonTorrentEntry): Promise<void>;
  /** Stops it and counts the bytes of its run. */
  stopEntry(entry: DaemonTorrentEntry): Promise<void>;
  applyQueue(): void;
}
