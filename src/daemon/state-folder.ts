/**
 * The daemon's state folder:
 * `daemon.lock` (the PID of the daemon using it), `settings.json` (unless `--config` is
 * elsewhere), `stats.json`, `torrents/<hash>.torrent` + `torrents/<hash>.json`,
 * `resume/<hash>.resume` (fast-resume records), `dht.dat`. Every write is atomic.
 */
import * as fs from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DaemonError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../storage/atomic-file.js';
import { FolderSync, nodeDurableOps, writeNewFilesDurably } from './durable-files.js';
import { mapLimit } from './map-limit.js';
import {
  type CumulativeStats,
  decodeStats,
  decodeTorrentState,
  encodeTorrentState,
  type TorrentState,
} from './torrent-state.js';

/** State folders locked by this process (a second daemon in the same process is refused too). */
const HELD_HERE = new Set<string>();

const HASH_FILE = /^([0-9a-f]{40})\.json$/;
/** State files read at once at start. */
const READ_CONCURRENCY = 16;

/** A torrent entry found in the folder: its state and, once known, its metainfo bytes. */
export interface StoredTorrent {
  state: TorrentState;
  metainfo: Uint8Array | undefined;
}

export class StateFolder {
  readonly dir: string;
  /**
   * Per torrent, the state text last written or read: saving the same text again writes nothing
   * (the daemon saves every running torrent every 30 s and every torrent at close; with 1,000
   * idle torrents that was 1,000 fsync'd writes each time, for nothing).
   */
  readonly #saved = new Map<string, string>();

  /** fsyncs of `torrents/`, shared by the adds that arrive together. */
  readonly #torrentsSync: FolderSync;
  #torrentsDirMade = false;

  constructor(dir: string) {
    this.dir = dir;
    this.#torrentsSync = new FolderSync(this.torrentsDir);
  }

  get torrentsDir(): string {
    return join(this.dir, 'torrents');
  }
  get resumeDir(): string {
    return join(this.dir, 'resume');
  }
  get settingsFile(): string {
    return join(this.dir, 'settings.json');
  }
  get lockFile(): string {
    return join(this.dir, 'daemon.lock');
  }

  /**
   * Takes the folder for this process: `daemon.lock` holds our PID. A lock whose process is gone
   * (a crash, `kill -9`) is stale and taken over; a live one refuses with a readable error.
   */
  async lock(pid = process.pid): Promise<void> {
    if (HELD_HERE.has(this.dir))
      throw new DaemonError(
        'LODESTONE_ERR_DAEMON_STATE',
        `another daemon (PID ${pid}, this process) is using the state folder ${this.dir}`,
      );
    await fs.mkdir(this.dir, { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await fs.open(this.lockFile, 'wx', 0o600);
        await handle.writeFile(`${pid}\n`);
        await handle.close();
        HELD_HERE.add(this.dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(this.lockFile, error);
      }
      const text = (await readTextIfExists(this.lockFile)) ?? '';
      const holder = Number.parseInt(text.trim(), 10);
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && isAlive(holder))
        throw new DaemonError(
          'LODESTONE_ERR_DAEMON_STATE',
          `another daemon (PID ${holder}) is using the state folder ${this.dir}`,
        );
      // Stale (its process is gone, or unreadable): remove it and try again.
      await fs.rm(this.lockFile, { force: true });
    }
    throw new DaemonError('LODESTONE_ERR_DAEMON_STATE', `cannot take the lock ${this.lockFile}`);
  }

  async unlock(pid = process.pid): Promise<void> {
    HELD_HERE.delete(this.dir);
    const text = await readTextIfExists(this.lockFile).catch(() => undefined);
    if (text !== undefined && Number.parseInt(text.trim(), 10) === pid)
      await fs.rm(this.lockFile, { force: true });
  }

  /**
   * Every torrent entry; one that cannot be read or decoded is skipped and reported through
   * `warn` (never fatal for the others).
   */
  async loadTorrents(warn: (message: string) => void): Promise<StoredTorrent[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.torrentsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw stateError(this.torrentsDir, error);
    }
    const files = names.sort().filter((name) => HASH_FILE.test(name));
    // Read a few at a time, reported and returned in name order.
    const loaded = await mapLimit(files, READ_CONCURRENCY, (name) => this.#loadOne(name));
    const out: StoredTorrent[] = [];
    for (const item of loaded) {
      if ('warning' in item) warn(item.warning);
      else out.push(item);
    }
    return out;
  }

  async #loadOne(name: string): Promise<StoredTorrent | { warning: string }> {
    const hash = HASH_FILE.exec(name)![1]!;
    const path = join(this.torrentsDir, name);
    try {
      const text = await fs.readFile(path, 'utf8');
      const state = decodeTorrentState(text);
      if (state.hash !== hash) throw new Error(`it names another torrent (${state.hash})`);
      const metainfo = await fs.readFile(this.metainfoPath(state.hash)).catch((error) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      });
      if (metainfo === undefined && state.magnet === undefined)
        throw new Error('neither its .torrent file nor a magnet link is there');
      this.#saved.set(state.hash, text);
      return { state, metainfo };
    } catch (error) {
      return { warning: `skipped the torrent state ${path}: ${(error as Error).message}` };
    }
  }

  metainfoPath(hash: string): string {
    return join(this.torrentsDir, `${hash}.torrent`);
  }
  statePath(hash: string): string {
    return join(this.torrentsDir, `${hash}.json`);
  }

  /**
   * Writes the torrent's state file, unless it already holds exactly this state. `changed` is
   * called (before the write) when it does not: the state differs from the last one saved or read.
   */
  async saveState(state: TorrentState, changed?: () => void): Promise<void> {
    const text = encodeTorrentState(state);
    if (this.#saved.get(state.hash) === text) return;
    changed?.();
    // Noted before the write: a later save of the older text (a change undone) must still write.
    this.#saved.set(state.hash, text);
    try {
      await writeFileAtomic(this.statePath(state.hash), text);
    } catch (error) {
      // Not on disk: the next save writes again.
      if (this.#saved.get(state.hash) === text) this.#saved.delete(state.hash);
      throw error;
    }
  }

  /**
   * A torrent just added: its `.torrent` (unless a magnet) and its state file, durable when this
   * resolves (both written, then both and `torrents/` fsync'd at once; the folder's fsync shared with
   * the adds made meanwhile). Written in place rather than through a temporary file: the state file is
   * what makes the torrent exist at restore, and a crash before this resolves (before the add is
   * answered) may leave a partial one, skipped at start with a warning. On failure nothing is
   * left and the error (a DaemonError) is thrown.
   */
  async saveNewTorrent(state: TorrentState, metainfo: Uint8Array | undefined): Promise<void> {
    if (!this.#torrentsDirMade) {
      await fs.mkdir(this.torrentsDir, { recursive: true }).catch((error) => {
        throw stateError(this.torrentsDir, error);
      });
      this.#torrentsDirMade = true;
    }
    const text = encodeTorrentState(state);
    const files: { path: string; data: string | Uint8Array }[] = [
      { path: this.statePath(state.hash), data: text },
    ];
    if (metainfo !== undefined) files.push({ path: this.metainfoPath(state.hash), data: metainfo });
    try {
      await writeNewFilesDurably(files, this.#torrentsSync, nodeDurableOps);
    } catch (error) {
      throw stateError(this.statePath(state.hash), error);
    }
    this.#saved.set(state.hash, text);
  }

  async saveMetainfo(hash: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.metainfoPath(hash), bytes);
  }

  /** Forgets a torrent: its state, metainfo and resume record. */
  async removeTorrent(hash: string): Promise<void> {
    this.#saved.delete(hash);
    for (const path of [
      this.statePath(hash),
      this.metainfoPath(hash),
      join(this.resumeDir, `${hash}.resume`),
    ])
      await fs.rm(path, { force: true });
  }

  resumePath(hash: string): string {
    return join(this.resumeDir, `${hash}.resume`);
  }

  async loadResumeRecord(hash: string): Promise<Uint8Array | undefined> {
    return (await readFile(this.resumePath(hash)).catch(() => undefined)) ?? undefined;
  }

  async saveResumeRecord(hash: string, bytes: Uint8Array): Promise<void> {
    await writeFileAtomic(this.resumePath(hash), bytes);
  }

  async removeResumeRecord(hash: string): Promise<void> {
    await fs.rm(this.resumePath(hash), { force: true });
  }

  async loadStats(warn: (message: string) => void): Promise<CumulativeStats> {
    const empty = { uploadedBytes: 0, downloadedBytes: 0, filesAdded: 0, sessionCount: 0, secondsActive: 0 };
    const path = join(this.dir, 'stats.json');
    try {
      const text = await readTextIfExists(path);
      return text === undefined ? empty : decodeStats(text);
    } catch (error) {
      warn(`ignored ${path}: ${(error as Error).message}`);
      return empty;
    }
  }

  async saveStats(stats: CumulativeStats): Promise<void> {
    await writeFileAtomic(join(this.dir, 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is someone else's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function stateError(path: string, error: unknown): DaemonError {
  return new DaemonError('LODESTONE_ERR_DAEMON_STATE', `cannot use ${path}: ${(error as Error).message}`, {
    cause: error,
  });
}
