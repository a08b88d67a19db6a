/** The options, events and settings-update result of the {@link Daemon}. */
import type { ClientOptions } from '../session/client.js';
import type { DhtOptions } from '../session/dht-service.js';
import type { SettingsUpdate, TorrentId } from './daemon-api.js';
import type { LogLevel } from './torrent-runner.js';

/** How {@link Daemon.open} sets the daemon up. */
export interface DaemonOptions {
  /** The state folder (torrents, resume records, stats, the lock, `settings.json` by default). */
  stateDir: string;
  /** The settings file. @default `<stateDir>/settings.json` */
  configFile?: string;
  /**
   * Settings given on the command line: checked like the file's, applied over it and saved.
   */
  overrides?: Record<string, unknown>;
  /** Home folder for the default `download-dir` (`<home>/Downloads`). @default os.homedir() */
  home?: string;
  /** The DHT's bootstrap and state file, used when `dht-enabled` is true. @default `<stateDir>/dht.dat`, no bootstrap */
  dht?: DhtOptions;
  /** Client options that are not settings (tests: hash workers, tracker clients). */
  client?: Pick<ClientOptions, 'hashWorkers' | 'createTrackerClient' | 'handshakeTimeoutMs' | 'peerId'>;
  /** Where log lines go; the CLI prints them on stderr. */
  log?: (level: LogLevel, message: string) => void;
  /** Milliseconds since the epoch, for the dates the daemon keeps. @default Date.now */
  now?: () => number;
}

export interface DaemonEvents {
  /** A torrent's start-up check is over: `piecesHashed` pieces were read and hashed for it. */
  'torrent-ready': [{ id: TorrentId; hash: string; verifiedPieces: number; piecesHashed: number }];
}

/** What {@link Daemon.updateSettings} also says: keys that wait for a restart, and those not acted on. */
export interface DaemonSettingsUpdate extends SettingsUpdate {
  /** Saved; they take effect when the daemon starts again. */
  atRestart: string[];
  /** Saved, but not acted on by this build (see docs/daemon.md), or unsupported (LPD, port forwarding). */
  unsupported: string[];
}
