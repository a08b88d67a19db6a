/**
 * An in-memory {@link DaemonApi} for RPC tests: a plain, honest implementation holding a few
 * torrents (parsed from real metainfo or magnets), applying every call to them, and recording
 * each call (method + arguments) so a test can check what a client asked for.
 */
import { readFile } from 'node:fs/promises';
import { encode } from '../../src/bencode/index.js';
import type {
  AddRequest,
  AddResult,
  DaemonApi,
  DaemonSessionStats,
  DaemonTorrent,
  FilePriority,
  QueueMove,
  SettingsUpdate,
  TorrentFileView,
  TorrentPatch,
  TorrentPeerView,
  TorrentSelector,
  TorrentSettings,
  TorrentStatus,
  TorrentSummary,
  TorrentTrackerView,
} from '../../src/daemon/index.js';
import { defaultSettings } from '../../src/daemon/index.js';
import type { DaemonSettings } from '../../src/daemon/settings-types.js';
import { DaemonError } from '../../src/errors.js';
import { parseMagnet, parseTorrent, toMagnetUri } from '../../src/metainfo/index.js';

export function defaultTestSettings(overrides: Partial<DaemonSettings> = {}): DaemonSettings {
  return {
    ...defaultSettings('/tmp/lodestone-test-home'),
    'download-dir': '/tmp/lodestone-test-downloads',
    'rpc-port': 0,
    ...overrides,
  };
}

/** A small single- or multi-file .torrent (random piece hashes: nothing is ever verified). */
export function makeTorrentBytes(
  name: string,
  files: Array<{ path: string[]; length: number }>,
  extras: { comment?: string; announce?: string } = {},
): Uint8Array {
  const pieceLength = 16384;
  const total = files.reduce((sum, f) => sum + f.length, 0);
  const pieces = Buffer.alloc(20 * Math.max(1, Math.ceil(total / pieceLength)), 7);
  const info: Record<string, unknown> =
    files.length === 1 && files[0]?.path.length === 1
      ? { name, 'piece length': pieceLength, pieces, length: files[0].length }
      : {
          name,
          'piece length': pieceLength,
          pieces,
          files: files.map((f) => ({ length: f.length, path: f.path })),
        };
  const root: Record<string, unknown> = { info };
  if (extras.comment !== undefined) root.comment = extras.comment;
  if (extras.announce !== undefined) root.announce = extras.announce;
  return encode(root as Parameters<typeof encode>[0]);
}

export interface RecordedCall {
  method: string;
  args: unknown[];
}

const DEFAULT_TORRENT_SETTINGS: TorrentSettings = {
  downloadLimit: undefined,
  uploadLimit: undefined,
  honorsSessionLimits: true,
  peerLimit: 50,
  seedRatioMode: 'global',
  seedRatioLimit: 2,
  seedIdleMode: 'global',
  seedIdleLimit: 30,
  sequential: false,
  labels: [],
  bandwidthPriority: 'normal',
};

class MemoryTorrent implements DaemonTorrent {
  readonly id: number;
  readonly hash: string;
  name: string;
  status: TorrentStatus;
  downloadDir: string;
  fileList: TorrentFileView[];
  pieceCount: number;
  pieceSize: number;
  magnetLink: string;
  comment: string;
  isPrivate: boolean;
  settings: TorrentSettings;
  queuePosition = 0;
  peerList: TorrentPeerView[] = [];
  trackerList: TorrentTrackerView[] = [];
  /** Verified bytes, set by tests. */
  haveValid = 0;

  constructor(
    id: number,
    init: Omit<
      MemoryTorrent,
      | 'id'
      | 'summary'
      | 'files'
      | 'peers'
      | 'trackers'
      | 'pieces'
      | 'queuePosition'
      | 'peerList'
      | 'trackerList'
      | 'haveValid'
    > & { id?: number },
  ) {
    this.id = id;
    this.hash = init.hash;
    this.name = init.name;
    this.status = init.status;
    this.downloadDir = init.downloadDir;
    this.fileList = init.fileList;
    this.pieceCount = init.pieceCount;
    this.pieceSize = init.pieceSize;
    this.magnetLink = init.magnetLink;
    this.comment = init.comment;
    this.isPrivate = init.isPrivate;
    this.settings = init.settings;
  }

  summary(): TorrentSummary {
    const total = this.fileList.reduce((sum, f) => sum + f.length, 0);
    const sizeWhenDone = this.fileList.filter((f) => f.wanted).reduce((sum, f) => sum + f.length, 0);
    const have = Math.min(this.haveValid, sizeWhenDone);
    return {
      id: this.id,
      hash: this.hash,
      name: this.name,
      status: this.status,
      error: undefined,
      hasMetadata: this.pieceCount > 0,
      metadataProgress: this.pieceCount > 0 ? 1 : 0,
      totalSize: total,
      sizeWhenDone,
      leftUntilDone: sizeWhenDone - have,
      haveValid: have,
      percentDone: sizeWhenDone === 0 ? 0 : have / sizeWhenDone,
      recheckProgress: 0,
      pieceCount: this.pieceCount,
      pieceSize: this.pieceSize,
      downloadedEver: have,
      uploadedEver: 0,
      corruptEver: 0,
      rateDownload: 0,
      rateUpload: 0,
      eta: this.status === 'downloading' ? -1 : -2,
      peersConnected: this.peerList.length,
      peersSendingToUs: 0,
      peersGettingFromUs: 0,
      addedDate: 1_700_000_000,
      doneDate: 0,
      activityDate: 0,
      startDate: 0,
      downloadDir: this.downloadDir,
      isPrivate: this.isPrivate,
      isFinished: false,
      magnetLink: this.magnetLink,
      comment: this.comment,
      creator: '',
      dateCreated: 0,
      queuePosition: this.queuePosition,
      settings: { ...this.settings, labels: [...this.settings.labels] },
    };
  }
  files(): TorrentFileView[] {
    return this.fileList.map((f) => ({ ...f }));
  }
  peers(): TorrentPeerView[] {
    return this.peerList.map((p) => ({ ...p }));
  }
  trackers(): TorrentTrackerView[] {
    return this.trackerList.map((t) => ({ ...t }));
  }
  pieces(): Uint8Array {
    return new Uint8Array(Math.ceil(this.pieceCount / 8));
  }
}

export class MemoryDaemon implements DaemonApi {
  readonly calls: RecordedCall[] = [];
  readonly #torrents: MemoryTorrent[] = [];
  #settings: DaemonSettings;
  #nextId = 1;
  #removed: number[] = [];

  constructor(settings: Partial<DaemonSettings> = {}) {
    this.#settings = defaultTestSettings(settings);
  }

  #record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  /** The calls of one method, in order. */
  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /** The torrent with this id (for tests to inspect or adjust). */
  torrent(id: number): MemoryTorrent {
    const found = this.#torrents.find((t) => t.id === id);
    if (found === undefined) throw new Error(`no torrent ${id}`);
    return found;
  }

  settings(): Readonly<DaemonSettings> {
    return this.#settings;
  }

  async updateSettings(patch: Record<string, unknown>): Promise<SettingsUpdate> {
    this.#record('updateSettings', patch);
    const applied: string[] = [];
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (!Object.hasOwn(this.#settings, key)) {
        unknown.push(key);
        continue;
      }
      const current = (this.#settings as unknown as Record<string, unknown>)[key];
      if (typeof current !== typeof value) {
        throw new DaemonError('LODESTONE_ERR_DAEMON_SETTINGS', `invalid value for ${key}`);
      }
      applied.push(key);
    }
    this.#settings = { ...this.#settings, ...(patch as Partial<DaemonSettings>) };
    return { applied, unknown };
  }

  stats(): DaemonSessionStats {
    const totals = {
      uploadedBytes: 0,
      downloadedBytes: 0,
      filesAdded: this.#nextId - 1,
      sessionCount: 1,
      secondsActive: 0,
    };
    const paused = this.#torrents.filter((t) => t.status === 'stopped').length;
    return {
      torrentCount: this.#torrents.length,
      activeTorrentCount: this.#torrents.length - paused,
      pausedTorrentCount: paused,
      downloadSpeed: 0,
      uploadSpeed: 0,
      cumulative: { ...totals, sessionCount: 3 },
      current: totals,
    };
  }

  #select(selector: TorrentSelector): MemoryTorrent[] {
    if (selector === undefined) return [...this.#torrents];
    if (selector === 'recently-active') return [...this.#torrents];
    return this.#torrents.filter((t) => selector.includes(t.id) || selector.includes(t.hash));
  }

  torrents(selector?: TorrentSelector): DaemonTorrent[] {
    return this.#select(selector).sort((a, b) => a.queuePosition - b.queuePosition);
  }

  recentlyRemoved(): number[] {
    return [...this.#removed];
  }

  async add(request: AddRequest): Promise<AddResult> {
    this.#record('add', request);
    let init: {
      hash: string;
      name: string;
      files: TorrentFileView[];
      pieceCount: number;
      pieceSize: number;
      magnet: string;
      comment: string;
      isPrivate: boolean;
    };
    const source = request.source;
    if (source.kind === 'magnet') {
      const magnet = parseMagnet(source.uri);
      if (magnet.infoHashHex === undefined)
        throw new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', 'magnet has no v1 info-hash');
      init = {
        hash: magnet.infoHashHex,
        name: magnet.name ?? magnet.infoHashHex,
        files: [],
        pieceCount: 0,
        pieceSize: 0,
        magnet: source.uri,
        comment: '',
        isPrivate: false,
      };
    } else {
      const bytes = source.kind === 'file' ? new Uint8Array(await readFile(source.path)) : source.bytes;
      let meta: ReturnType<typeof parseTorrent>;
      try {
        meta = parseTorrent(bytes);
      } catch (error) {
        throw new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', 'invalid or corrupt torrent file', {
          cause: error,
        });
      }
      const wanted = (i: number) =>
        request.filesWanted?.includes(i) ?? !(request.filesUnwanted?.includes(i) ?? false);
      const files = meta.files.map((f, i) => ({
        name: f.path.join('/'),
        length: f.length,
        bytesCompleted: 0,
        wanted: wanted(i),
        priority: (request.priorityHigh?.includes(i)
          ? 'high'
          : request.priorityLow?.includes(i)
            ? 'low'
            : 'normal') as FilePriority,
      }));
      init = {
        hash: meta.infoHashHex,
        name: meta.name,
        files,
        pieceCount: meta.pieceCount,
        pieceSize: meta.pieceLength,
        magnet: toMagnetUri(meta),
        comment: meta.comment ?? '',
        isPrivate: meta.private,
      };
    }
    const existing = this.#torrents.find((t) => t.hash === init.hash);
    if (existing !== undefined) return { torrent: existing, duplicate: true };
    const paused = request.paused ?? !this.#settings['start-added-torrents'];
    const torrent = new MemoryTorrent(this.#nextId++, {
      hash: init.hash,
      name: init.name,
      status: paused ? 'stopped' : 'downloading',
      downloadDir: request.downloadDir ?? this.#settings['download-dir'],
      fileList: init.files,
      pieceCount: init.pieceCount,
      pieceSize: init.pieceSize,
      magnetLink: init.magnet,
      comment: init.comment,
      isPrivate: init.isPrivate,
      settings: { ...DEFAULT_TORRENT_SETTINGS, ...request.settings },
    });
    torrent.queuePosition = this.#torrents.length;
    this.#torrents.push(torrent);
    return { torrent, duplicate: false };
  }

  async start(selector: TorrentSelector, options?: { now?: boolean }): Promise<void> {
    this.#record('start', selector, options);
    for (const t of this.#select(selector))
      t.status = t.summary().leftUntilDone === 0 && t.pieceCount > 0 ? 'seeding' : 'downloading';
  }

  async stop(selector: TorrentSelector): Promise<void> {
    this.#record('stop', selector);
    for (const t of this.#select(selector)) t.status = 'stopped';
  }

  async verify(selector: TorrentSelector): Promise<void> {
    this.#record('verify', selector);
    for (const t of this.#select(selector)) t.status = 'check-wait';
  }

  async reannounce(selector: TorrentSelector): Promise<void> {
    this.#record('reannounce', selector);
  }

  async remove(selector: TorrentSelector, options?: { deleteData?: boolean }): Promise<void> {
    this.#record('remove', selector, options);
    for (const t of this.#select(selector)) {
      this.#torrents.splice(this.#torrents.indexOf(t), 1);
      this.#removed.push(t.id);
    }
  }

  async setLocation(selector: TorrentSelector, location: string, options: { move: boolean }): Promise<void> {
    this.#record('setLocation', selector, location, options);
    for (const t of this.#select(selector)) t.downloadDir = location;
  }

  async renamePath(id: number, path: string, newName: string): Promise<{ path: string; name: string }> {
    this.#record('renamePath', id, path, newName);
    const t = this.torrent(id);
    if (path !== t.name || newName.includes('/'))
      throw new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', 'Invalid argument');
    t.name = newName;
    return { path, name: newName };
  }

  async set(selector: TorrentSelector, patch: TorrentPatch): Promise<void> {
    this.#record('set', selector, patch);
    for (const t of this.#select(selector)) {
      const {
        filesWanted,
        filesUnwanted,
        priorityHigh,
        priorityNormal,
        priorityLow,
        queuePosition,
        trackerList,
        ...settings
      } = patch;
      for (const i of filesWanted ?? []) if (t.fileList[i]) t.fileList[i].wanted = true;
      for (const i of filesUnwanted ?? []) if (t.fileList[i]) t.fileList[i].wanted = false;
      for (const i of priorityHigh ?? []) if (t.fileList[i]) t.fileList[i].priority = 'high';
      for (const i of priorityNormal ?? []) if (t.fileList[i]) t.fileList[i].priority = 'normal';
      for (const i of priorityLow ?? []) if (t.fileList[i]) t.fileList[i].priority = 'low';
      if (queuePosition !== undefined) t.queuePosition = queuePosition;
      void trackerList;
      t.settings = { ...t.settings, ...settings };
    }
  }

  async queueMove(selector: TorrentSelector, move: QueueMove): Promise<void> {
    this.#record('queueMove', selector, move);
  }

  async freeSpace(path: string): Promise<{ path: string; freeBytes: number; totalBytes: number }> {
    this.#record('freeSpace', path);
    return { path, freeBytes: 123_456_789, totalBytes: 987_654_321 };
  }
}
