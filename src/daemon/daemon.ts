/**
 * The daemon: many torrents over one {@link Client}, a settings file with Transmission's keys and
 * a state folder, behind the {@link DaemonApi} the RPC and the CLI drive. See docs/daemon.md.
 */
import { EventEmitter } from 'node:events';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { DaemonError } from '../errors.js';
import type { Client } from '../session/client.js';
import {
  moveInQueue,
  reannounceTorrents,
  removeTorrents,
  renameTorrentPath,
  setTorrents,
  setTorrentsLocation,
  startTorrents,
  stopTorrents,
  verifyTorrents,
} from './daemon-actions.js';
import { addToDaemon } from './daemon-add.js';
import type {
  AddRequest,
  AddResult,
  DaemonApi,
  DaemonSessionStats,
  DaemonTorrent,
  QueueMove,
  TorrentId,
  TorrentPatch,
  TorrentSelector,
} from './daemon-api.js';
import { clientFor } from './daemon-client.js';
import type { DaemonCore } from './daemon-core.js';
import { sessionStats } from './daemon-stats.js';
import { DaemonTorrentEntry } from './daemon-torrent.js';
import type { DaemonEvents, DaemonOptions, DaemonSettingsUpdate } from './daemon-types.js';
import { freeSpace } from './free-space.js';
import { restoreAll } from './restore.js';
import { Scheduler } from './scheduler.js';
import {
  classifySettingsUpdate,
  describeSettingsUpdate,
  UNSUPPORTED_WHEN_TRUE,
  validateSettingsPatch,
} from './settings.js';
import { loadSettingsFile, reloadPatch, saveSettingsFile } from './settings-file.js';
import type { DaemonSettings } from './settings-types.js';
import { applyClientLimits, SpeedControl } from './speed-control.js';
import { StateFolder } from './state-folder.js';
import { type LogLevel, type RunnerContext, startEntry, stopEntry } from './torrent-runner.js';
import type { CumulativeStats, TorrentState } from './torrent-state.js';
import { lastTouchedMs, selectTorrents } from './torrent-status.js';

export type { DaemonEvents, DaemonOptions, DaemonSettingsUpdate } from './daemon-types.js';
export type { LogLevel } from './torrent-runner.js';

const TICK_MS = 1000;
const SAVE_EVERY_TICKS = 30;

export class Daemon extends EventEmitter<DaemonEvents> implements DaemonApi {
  readonly client: Client;
  /** The state folder (absolute). */
  readonly stateDir: string;
  readonly #folder: StateFolder;
  readonly configFile: string;
  #settings: DaemonSettings;
  #unknown: Record<string, unknown>;
  readonly #options: DaemonOptions;
  readonly #torrents: DaemonTorrentEntry[] = [];
  readonly #removed: { id: TorrentId; at: number }[] = [];
  #nextId = 1;
  #cumulative: CumulativeStats;
  readonly #current: CumulativeStats;
  readonly #startedAt: number;
  #tick: NodeJS.Timeout | undefined;
  #ticks = 0;
  #closed = false;
  readonly #ctx: RunnerContext;
  readonly #speed: SpeedControl;
  readonly #scheduler: Scheduler;
  /** What the actions (daemon-actions.ts, daemon-add.ts) work on. */
  readonly #core: DaemonCore;

  private constructor(
    options: DaemonOptions,
    folder: StateFolder,
    configFile: string,
    loaded: { settings: DaemonSettings; unknown: Record<string, unknown> },
    cumulative: CumulativeStats,
  ) {
    super();
    this.#options = options;
    this.#folder = folder;
    this.stateDir = folder.dir;
    this.configFile = configFile;
    this.#settings = loaded.settings;
    this.#unknown = loaded.unknown;
    this.#cumulative = { ...cumulative, sessionCount: cumulative.sessionCount + 1 };
    this.#current = {
      uploadedBytes: 0,
      downloadedBytes: 0,
      filesAdded: 0,
      sessionCount: 1,
      secondsActive: 0,
    };
    this.#startedAt = this.now();
    this.#speed = new SpeedControl(loaded.settings);
    this.client = clientFor(loaded.settings, folder, options);
    this.client.on('error', (error, session) =>
      this.log('error', `torrent ${session.meta.name}: ${error.message}`),
    );
    this.client.on('dht-warning', ({ message }) => this.log('info', `dht: ${message}`));
    this.#ctx = {
      client: this.client,
      folder,
      settings: () => this.#settings,
      now: () => this.now(),
      log: (level, message) => this.log(level, message),
      ready: (entry, info) => {
        this.log(
          'debug',
          `torrent ${entry.id}: ready, ${info.verifiedPieces} pieces verified, ${info.piecesHashed} hashed`,
        );
        this.emit('torrent-ready', { id: entry.id, hash: entry.hash, ...info });
        const verified = entry.verifying;
        entry.verifying = false;
        // A paused torrent is verified, then stops again.
        if (entry.state.paused)
          this.#stopEntry(entry).catch((error: unknown) =>
            this.log('error', `torrent ${entry.id}: ${(error as Error).message}`),
          );
        // A verify's (or a new torrent's first) slot-free check is over: it joins the queue by
        // the counts (O(1)) while a slot is free. Any other start's check may have found it
        // complete (the seed queue): planned once for every torrent ready in this turn (1,000 at start).
        else if (verified) this.#scheduler.admit(entry, true);
        else this.#scheduler.applyQueueSoon();
      },
      save: (entry) => this.#save(entry),
      // Completed or failed (every seeding torrent completes at start): one plan per turn.
      changed: (entry) => this.#scheduler.changed(entry),
    };
    const torrents = this.#torrents;
    this.#scheduler = new Scheduler({
      torrents,
      settings: () => this.#settings,
      now: () => this.now(),
      start: (entry) => startEntry(this.#ctx, entry),
      stop: (entry) => this.#stopEntry(entry),
      save: (entry) => this.#save(entry),
      log: (level, message) => this.log(level, message),
      closed: () => this.#closed,
    });
    this.#core = {
      torrents,
      adding: new Map(),
      removed: this.#removed,
      folder,
      runner: this.#ctx,
      scheduler: this.#scheduler,
      settings: () => this.#settings,
      now: () => this.now(),
      log: (level, message) => this.log(level, message),
      assertOpen: () => this.#assertOpen(),
      select: (selector) => this.#select(selector),
      newEntry: (state) => this.#newEntry(state),
      countAdded: () => {
        this.#current.filesAdded++;
        this.#cumulative.filesAdded++;
      },
      save: (entry) => this.#save(entry),
      stopEntry: (entry) => this.#stopEntry(entry),
      applyQueue: () => this.#scheduler.applyQueue(),
    };
  }

  #newEntry(state: TorrentState): DaemonTorrentEntry {
    const entry = new DaemonTorrentEntry(this.#nextId++, state);
    entry.seedLimits = () => this.#settings;
    entry.now = () => this.now();
    return entry;
  }

  /**
   * Takes the state folder (a second daemon on it is refused), reads the settings (a bad file is
   * a `LODESTONE_ERR_DAEMON_SETTINGS` error), starts listening and brings back every torrent.
   */
  static async open(options: DaemonOptions): Promise<Daemon> {
    const folder = new StateFolder(resolve(options.stateDir));
    await folder.lock();
    try {
      const configFile = resolve(options.configFile ?? folder.settingsFile);
      const loaded = await loadSettingsFile(configFile, options.home ?? homedir());
      const overrides = validateSettingsPatch(options.overrides ?? {}, 'the command line');
      const settings = { ...loaded.settings, ...overrides.known };
      const warnings: string[] = [];
      const cumulative = await folder.loadStats((message) => warnings.push(message));
      const daemon = new Daemon(
        options,
        folder,
        configFile,
        { settings, unknown: loaded.unknown },
        cumulative,
      );
      for (const message of warnings) daemon.log('info', message);
      for (const key of Object.keys(loaded.unknown))
        daemon.log('info', `settings: unknown key "${key}" kept, ignored`);
      await daemon.#start();
      return daemon;
    } catch (error) {
      await folder.unlock();
      throw error;
    }
  }

  async #start(): Promise<void> {
    for (const key of UNSUPPORTED_WHEN_TRUE)
      if (this.#settings[key as keyof DaemonSettings] === true) {
        this.log('info', `settings: ${key} is not supported; kept off`);
        (this.#settings as unknown as Record<string, unknown>)[key] = false;
      }
    this.#settings = await saveSettingsFile(this.configFile, this.#settings, this.#unknown);
    const port = await this.client.listen();
    this.log('info', `listening for peers on port ${port}`);
    const restored = await restoreAll(
      this.#folder,
      (state) => this.#newEntry(state),
      (message) => this.log('error', message),
    );
    this.#torrents.push(...restored);
    // A restart tries again a torrent a local error stopped (the queue leaves those alone).
    for (const entry of restored) if (entry.state.error?.kind === 'local') entry.state.error = undefined;
    this.log('info', `${this.#torrents.length} torrents`);
    this.#followSpeedSchedule();
    this.#applySpeedLimits();
    // The queue starts the torrents that are not paused, as many as it has slots for.
    this.#scheduler.applyQueue();
    await this.#folder.saveStats(this.#cumulative);
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
    this.#tick.unref();
  }

  now(): number {
    return (this.#options.now ?? Date.now)();
  }

  log(level: LogLevel, message: string): void {
    this.#options.log?.(level, message);
  }

  /** The settings; `peer-port` 0 (any free port) reads as the port actually listened on. */
  settings(): Readonly<DaemonSettings> {
    if (this.#settings['peer-port'] !== 0 || !(this.client.port > 0)) return this.#settings;
    return { ...this.#settings, 'peer-port': this.client.port };
  }

  async updateSettings(patch: Record<string, unknown>): Promise<DaemonSettingsUpdate> {
    const { known, unknown } = validateSettingsPatch(patch, 'the settings update');
    const next: DaemonSettings = { ...this.#settings, ...known };
    const update = classifySettingsUpdate(
      Object.keys(known) as (keyof DaemonSettings)[],
      next,
      Object.keys(unknown),
    );
    this.#unknown = { ...this.#unknown, ...unknown };
    this.#settings = await saveSettingsFile(this.configFile, next, this.#unknown);
    this.#speed.settingsChanged(Object.keys(known), this.#settings);
    this.#followSpeedSchedule();
    this.#applySpeedLimits();
    this.#scheduler.applyQueue();
    this.#scheduler.applySeedLimits();
    for (const line of describeSettingsUpdate(update)) this.log('info', line);
    return update;
  }

  /** Reads the settings file again (SIGHUP) and applies what changed in it. */
  async reloadSettings(): Promise<DaemonSettingsUpdate & { changed: string[] }> {
    const loaded = await loadSettingsFile(this.configFile, this.#options.home ?? homedir());
    const { patch, changed } = reloadPatch(this.#settings, loaded);
    const update = await this.updateSettings(patch);
    return { ...update, changed };
  }

  stats(): DaemonSessionStats {
    const seconds = Math.floor((this.now() - this.#startedAt) / 1000);
    return sessionStats(this.#torrents, this.#current, this.#cumulative, seconds);
  }

  torrents(selector?: TorrentSelector): DaemonTorrent[] {
    return this.#select(selector);
  }

  #select(selector: TorrentSelector): DaemonTorrentEntry[] {
    const ordered = this.#torrents.map((entry) => ({
      id: entry.id,
      hash: entry.hash,
      activityMs: lastTouchedMs(entry),
      entry,
    }));
    return selectTorrents(ordered, selector, this.now()).map((item) => item.entry);
  }

  recentlyRemoved(): TorrentId[] {
    const since = this.now() - 60_000;
    return this.#removed.filter((item) => item.at >= since).map((item) => item.id);
  }

  add(request: AddRequest): Promise<AddResult> {
    return addToDaemon(this.#core, request);
  }

  start(selector: TorrentSelector, options: { now?: boolean } = {}): Promise<void> {
    return startTorrents(this.#core, selector, options);
  }

  stop(selector: TorrentSelector): Promise<void> {
    return stopTorrents(this.#core, selector);
  }

  verify(selector: TorrentSelector): Promise<void> {
    return verifyTorrents(this.#core, selector);
  }

  reannounce(selector: TorrentSelector): Promise<void> {
    return reannounceTorrents(this.#core, selector);
  }

  remove(selector: TorrentSelector, options: { deleteData?: boolean } = {}): Promise<void> {
    return removeTorrents(this.#core, selector, options);
  }

  setLocation(selector: TorrentSelector, location: string, options: { move: boolean }): Promise<void> {
    return setTorrentsLocation(this.#core, selector, location, options);
  }

  /** Renames a file or folder of one torrent (Transmission's `torrent-rename-path`); see rename-path.ts. */
  renamePath(id: TorrentId, path: string, newName: string): Promise<{ path: string; name: string }> {
    return renameTorrentPath(this.#core, id, path, newName);
  }

  set(selector: TorrentSelector, patch: TorrentPatch): Promise<void> {
    return setTorrents(this.#core, selector, patch);
  }

  queueMove(selector: TorrentSelector, move: QueueMove): Promise<void> {
    return moveInQueue(this.#core, selector, move);
  }

  freeSpace(path: string): Promise<{ path: string; freeBytes: number; totalBytes: number }> {
    return freeSpace(path);
  }

  /** Stops every torrent (trackers told `stopped`, resume records and state written), then the client. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tick) clearInterval(this.#tick);
    this.#cumulative.secondsActive += Math.floor((this.now() - this.#startedAt) / 1000);
    await Promise.all(this.#torrents.map((entry) => this.#stopEntry(entry)));
    for (const entry of this.#torrents) await this.#save(entry);
    await this.#folder
      .saveStats(this.#cumulative)
      .catch((error: unknown) => this.log('error', `cannot write stats: ${(error as Error).message}`));
    await this.client.close();
    await this.#folder.unlock();
    this.log('info', 'stopped');
  }

  /** Stops a torrent and counts the bytes of its run in the daemon's totals. */
  async #stopEntry(entry: DaemonTorrentEntry): Promise<void> {
    const run = await stopEntry(this.#ctx, entry);
    for (const totals of [this.#current, this.#cumulative]) {
      totals.uploadedBytes += run.uploaded;
      totals.downloadedBytes += run.downloaded;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new DaemonError('LODESTONE_ERR_DAEMON_STATE', 'the daemon is closed');
  }

  async #save(entry: DaemonTorrentEntry): Promise<void> {
    if (!this.#torrents.includes(entry)) return;
    try {
      // A changed state is a change `recently-active` shows (changedAtMs is derived here and from the phase).
      await this.#folder.saveState(entry.state, () => entry.noteStateChanged());
    } catch (error) {
      this.log('error', `torrent ${entry.id}: cannot write its state: ${(error as Error).message}`);
    }
  }

  #onTick(): void {
    this.#ticks++;
    if (this.#ticks % 60 === 0) this.#followSpeedSchedule();
    for (const entry of this.#torrents) {
      entry.noteActivity(this.now());
      if (entry.session && this.#ticks % SAVE_EVERY_TICKS === 0) void this.#save(entry);
    }
    this.#scheduler.tick();
  }

  /** The global (or turtle) speed limits, the peer caps, the open-file bound (speed-control.ts). */
  #applySpeedLimits(): void {
    applyClientLimits(this.client, this.#speed, this.#settings);
  }

  /** Once a minute: the turtle schedule may switch `alt-speed-enabled` (saved, as Transmission does). */
  #followSpeedSchedule(): void {
    const switched = this.#speed.tick(this.#settings, this.now());
    if (switched === undefined) return;
    this.#settings = { ...this.#settings, 'alt-speed-enabled': switched };
    this.log('info', `turtle mode ${switched ? 'on' : 'off'} (schedule)`);
    this.#applySpeedLimits();
    saveSettingsFile(this.configFile, this.#settings, this.#unknown).then(
      (saved) => {
        this.#settings = saved;
      },
      (error: unknown) => this.log('error', `cannot write the settings: ${(error as Error).message}`),
    );
  }
}
