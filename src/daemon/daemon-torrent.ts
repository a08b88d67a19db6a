/**
 * One torrent of the daemon: its kept state, its metadata once known, the running session (if
 * any), and the views the RPC reads (summary, files, peers, trackers, pieces), computed from them.
 */
import { Bitfield } from '../bitfield.js';
import { formatMagnet, toMagnetUri } from '../metainfo/magnet.js';
import { bytesInPieces } from '../metainfo/piece-map.js';
import type { MagnetLink, TorrentMetadata } from '../metainfo/types.js';
import { isFinished, type SeedLimitSettings } from '../policy/seed-limits.js';
import { fileProgress } from '../session/file-selection.js';
import type { TorrentSession } from '../session/torrent-session.js';
import type {
  DaemonTorrent,
  TorrentFileView,
  TorrentId,
  TorrentPeerView,
  TorrentSummary,
  TorrentTrackerView,
} from './daemon-api.js';
import type { TorrentState } from './torrent-state.js';
import { type TorrentPhase, torrentStatus } from './torrent-status.js';

/** What the daemon learnt of one tracker from the session's events. */
export interface TrackerInfo {
  lastAnnounceTime: number;
  succeeded: boolean;
  result: string;
  peerCount: number;
  nextAnnounceTime: number;
  seeders: number;
  leechers: number;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

export class DaemonTorrentEntry implements DaemonTorrent {
  readonly id: TorrentId;
  readonly hash: string;
  state: TorrentState;
  meta: TorrentMetadata | undefined;
  /** The magnet it was added from, if it was (its `x.pe` peers are dialled at every start). */
  magnet: MagnetLink | undefined;
  session: TorrentSession | undefined;
  /** The last stop, settled when its session has stopped (a start waits for it). */
  stopping: Promise<void> | undefined;
  /** Aborts the metadata fetch of a magnet. */
  fetching: AbortController | undefined;
  /** The daemon's clock (stamps {@link changedAtMs}). */
  now: () => number = Date.now;
  #phase: TorrentPhase = 'stopped';
  #changedAtMs = 0;
  checkProgress = 0;
  metadataProgress = 0;
  startDateMs = 0;

  /** Where it is in its life; a change of phase is a change of status (stamps {@link changedAtMs}). */
  get phase(): TorrentPhase {
    return this.#phase;
  }
  set phase(value: TorrentPhase) {
    if (value === this.#phase) return;
    this.#phase = value;
    this.#changedAtMs = this.now();
  }

  /**
   * When its status or its kept state last changed (Transmission's `anyDate` minus the dates kept
   * in the state): `recently-active` shows it. Derived, never set by an action: a change of
   * phase stamps it, and so does every save that changes its state file
   * ({@link noteStateChanged}; every kept change is saved, or it would be lost at a restart).
   */
  get changedAtMs(): number {
    return this.#changedAtMs;
  }

  /** Its kept state changed (called by the state folder's save when the text differs). */
  noteStateChanged(): void {
    this.#changedAtMs = this.now();
  }
  /** Verified pieces while stopped (from the last run or the resume record). */
  lastHave: Bitfield | undefined;
  readonly trackerInfo = new Map<string, TrackerInfo>();
  /** Started with "start now": runs whatever the queue says until it is stopped. */
  bypassQueue = false;
  /** A verify asked by the user is under way (it takes no queue slot). */
  verifying = false;
  /** The daemon is stopping, moving or removing it: the queue leaves it alone. */
  busy = false;
  /** Stalled at the last queue decision (src/daemon/queue-control.ts). */
  stalled = false;
  /** Seeding was stopped by the idle limit (`isFinished` until the next start; kept in the state, so across restarts). */
  get stoppedByIdle(): boolean {
    return this.state.stoppedByIdle === true;
  }
  set stoppedByIdle(value: boolean) {
    if (value) this.state.stoppedByIdle = true;
    else delete this.state.stoppedByIdle;
  }
  /** The daemon's global seed limits, for `isFinished` (none: never finished). */
  seedLimits: (() => SeedLimitSettings) | undefined;

  constructor(id: TorrentId, state: TorrentState) {
    this.id = id;
    this.hash = state.hash;
    this.state = state;
  }

  /** Verified pieces now (all clear while the metadata is unknown). */
  get have(): Bitfield {
    if (this.session && this.phase !== 'checking' && this.phase !== 'check-wait') return this.session.have;
    if (this.lastHave !== undefined) return this.lastHave;
    // One empty bitfield per torrent, not one per read: `complete` memoises on its identity.
    const pieces = this.meta?.pieceCount ?? 0;
    if (this.#noPieces?.size !== pieces) this.#noPieces = new Bitfield(pieces);
    return this.#noPieces;
  }

  #noPieces: Bitfield | undefined;

  #completeMemo: { have: Bitfield; count: number; wanted: boolean[] | undefined; value: boolean } | undefined;

  /**
   * Every wanted file is verified (with a file selection, the others need not be). O(1) unless a
   * piece was verified or the selection changed since the last call (the queue and the seed
   * limits ask every second).
   */
  get complete(): boolean {
    if (this.meta === undefined || this.meta.pieceCount === 0) return false;
    const have = this.have;
    if (have.count === this.meta.pieceCount) return true;
    const memo = this.#completeMemo;
    const wanted = this.state.filesWanted;
    if (memo?.have === have && memo.count === have.count && memo.wanted === wanted) return memo.value;
    const value = this.files().every((file) => !file.wanted || file.bytesCompleted === file.length);
    this.#completeMemo = { have, count: have.count, wanted, value };
    return value;
  }

  /** Bytes of this run not yet folded into the state's totals. */
  get runBytes(): { uploaded: number; downloaded: number; wasted: number } {
    const stats = this.session?.stats();
    return {
      uploaded: stats?.uploadedBytes ?? 0,
      downloaded: stats?.downloadedBytes ?? 0,
      wasted: stats?.wastedBytes ?? 0,
    };
  }

  /** The tracker tiers in use: the `set` list, else the metainfo's, else the magnet's. */
  get tiers(): string[][] {
    return (
      this.state.trackerList ?? this.meta?.announceTiers ?? (this.magnet?.trackers ?? []).map((url) => [url])
    );
  }

  verifiedBytes(have = this.have): number {
    return this.meta ? bytesInPieces(this.meta, have) : 0;
  }

  summary(): TorrentSummary {
    const { state, meta } = this;
    const stats = this.session?.stats();
    const run = this.runBytes;
    const totalSize = meta?.totalLength ?? 0;
    const files = this.files();
    const wanted = files.filter((file) => file.wanted);
    const sizeWhenDone = meta ? wanted.reduce((sum, file) => sum + file.length, 0) : 0;
    const doneWanted = wanted.reduce((sum, file) => sum + file.bytesCompleted, 0);
    const leftUntilDone = Math.max(0, sizeWhenDone - doneWanted);
    const complete = this.complete;
    const status = torrentStatus(this.phase, complete);
    const haveValid = this.verifiedBytes();
    const uploadedEver = state.uploadedEver + run.uploaded;
    const rateDownload = stats?.downloadRate ?? 0;
    let peersSendingToUs = 0;
    let peersGettingFromUs = 0;
    for (const peer of this.session?.peers.values() ?? []) {
      if (peer.connection.download.rate() > 0) peersSendingToUs++;
      if (peer.connection.upload.rate() > 0) peersGettingFromUs++;
    }
    return {
      id: this.id,
      hash: this.hash,
      name: meta?.name ?? state.name,
      status,
      error: state.error,
      hasMetadata: meta !== undefined,
      metadataProgress: meta ? 1 : this.metadataProgress,
      totalSize,
      sizeWhenDone,
      leftUntilDone,
      haveValid,
      percentDone: sizeWhenDone > 0 ? doneWanted / sizeWhenDone : 0,
      recheckProgress: this.phase === 'checking' ? this.checkProgress : 0,
      pieceCount: meta?.pieceCount ?? 0,
      pieceSize: meta?.pieceLength ?? 0,
      downloadedEver: state.downloadedEver + run.downloaded,
      uploadedEver,
      corruptEver: state.corruptEver + run.wasted,
      rateDownload,
      rateUpload: stats?.uploadRate ?? 0,
      eta: status !== 'downloading' ? -2 : rateDownload > 0 ? Math.ceil(leftUntilDone / rateDownload) : -1,
      peersConnected: stats?.peers ?? 0,
      peersSendingToUs,
      peersGettingFromUs,
      addedDate: seconds(state.addedDate),
      doneDate: seconds(state.doneDate),
      activityDate: seconds(state.activityDate),
      startDate: seconds(this.startDateMs),
      downloadDir: state.savePath,
      isPrivate: meta?.private ?? false,
      isFinished:
        this.seedLimits !== undefined &&
        isFinished(
          {
            running: this.session !== undefined,
            startedAt: this.startDateMs,
            lastActiveAt: state.activityDate,
            done: complete,
            uploadedEver,
            sizeWhenDone,
            haveValid,
            ...state.settings,
          },
          this.seedLimits(),
          this.stoppedByIdle,
        ),
      magnetLink: meta ? toMagnetUri(meta) : this.magnet ? formatMagnet(this.magnet) : (state.magnet ?? ''),
      comment: meta?.comment ?? '',
      creator: meta?.createdBy ?? '',
      dateCreated: meta?.creationDate ? seconds(meta.creationDate.getTime()) : 0,
      queuePosition: state.queuePosition,
      settings: { ...state.settings, labels: [...state.settings.labels] },
    };
  }

  files(): TorrentFileView[] {
    const meta = this.meta;
    if (!meta) return [];
    const completed = fileProgress(meta, this.have);
    return meta.files.map((file, index) => ({
      name: file.path.join('/'),
      length: file.length,
      bytesCompleted: completed[index] ?? 0,
      wanted: this.state.filesWanted?.[index] ?? true,
      priority: this.state.filePriorities?.[index] ?? 'normal',
    }));
  }

  peers(): TorrentPeerView[] {
    const session = this.session;
    if (!session) return [];
    const pieceCount = this.meta?.pieceCount ?? 0;
    return [...session.peers.values()].map((peer) => {
      const connection = peer.connection;
      return {
        address: connection.address.host,
        port: connection.address.port,
        clientName: peer.clientName ?? '',
        progress: pieceCount > 0 ? peer.has.count / pieceCount : 0,
        rateToClient: connection.download.rate(),
        rateToPeer: connection.upload.rate(),
        isEncrypted: connection.encryption === 'rc4',
        isUtp: connection.transport === 'utp',
        isIncoming: connection.direction === 'inbound',
        clientIsChoked: connection.peerChoking,
        clientIsInterested: connection.amInterested,
        peerIsChoked: connection.amChoking,
        peerIsInterested: connection.peerInterested,
      };
    });
  }

  trackers(): TorrentTrackerView[] {
    const views: TorrentTrackerView[] = [];
    this.tiers.forEach((tier, tierIndex) => {
      for (const announce of tier) {
        const info = this.trackerInfo.get(announce);
        let host = announce;
        try {
          const url = new URL(announce);
          host = `${url.protocol}//${url.host}`;
        } catch {
          // not a URL: shown as it is
        }
        views.push({
          id: views.length,
          tier: tierIndex,
          announce,
          host,
          lastAnnounceTime: info?.lastAnnounceTime ?? 0,
          lastAnnounceSucceeded: info?.succeeded ?? false,
          lastAnnounceResult: info?.result ?? '',
          lastAnnouncePeerCount: info?.peerCount ?? 0,
          nextAnnounceTime: info?.nextAnnounceTime ?? 0,
          seederCount: info?.seeders ?? -1,
          leecherCount: info?.leechers ?? -1,
          downloadCount: -1,
        });
      }
    });
    return views;
  }

  pieces(): Uint8Array {
    if (!this.meta) return new Uint8Array(0);
    return Uint8Array.from(this.have.bytes);
  }

  #lastRunBytes = 0;

  /** Sets `activityDate` to `now` when bytes moved since the last call (the daemon's tick). */
  noteActivity(now: number): void {
    const run = this.runBytes;
    const bytes = run.uploaded + run.downloaded;
    if (this.session && bytes !== this.#lastRunBytes) this.state.activityDate = now;
    this.#lastRunBytes = bytes;
  }
}
