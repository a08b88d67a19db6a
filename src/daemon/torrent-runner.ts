/**
 * Starting and stopping one daemon torrent: a magnet's metadata fetch, then a `TorrentSession`
 * through the client (a stopped session cannot restart, so every start makes a new one; with
 * resume records a verified torrent restarts without hashing), its events folded into the
 * torrent's state and views.
 */
import { rm } from 'node:fs/promises';
import { Bitfield } from '../bitfield.js';
import { buildTorrentFile } from '../metainfo/torrent-file.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { Client } from '../session/client.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import type { DaemonSettings } from './settings-types.js';
import type { StateFolder } from './state-folder.js';
import { applyTorrentLimits, partFilePath, sessionChoices } from './torrent-apply.js';

export type LogLevel = 'error' | 'info' | 'debug';

export interface RunnerContext {
  readonly client: Client;
  readonly folder: StateFolder;
  settings(): Readonly<DaemonSettings>;
  now(): number;
  log(level: LogLevel, message: string): void;
  /** The check at start is over (`piecesHashed` pieces were read and hashed). */
  ready(entry: DaemonTorrentEntry, info: { verifiedPieces: number; piecesHashed: number }): void;
  /** The torrent completed or failed: the queue decides again. */
  changed(entry: DaemonTorrentEntry): void;
  /** Writes the torrent's state file (failures are logged, never thrown). */
  save(entry: DaemonTorrentEntry): Promise<void>;
}

/** Starts the torrent: fetches a magnet's metadata first, then runs its session. */
export function startEntry(ctx: RunnerContext, entry: DaemonTorrentEntry): void {
  if (entry.session || entry.fetching) return;
  entry.state.error = undefined;
  entry.startDateMs = ctx.now();
  if (entry.meta) {
    startSession(ctx, entry);
    return;
  }
  const link = entry.magnet;
  if (!link) return;
  const abort = new AbortController();
  entry.fetching = abort;
  entry.phase = 'running';
  const fetcher = ctx.client.metadataFetcher(link, { peers: link.peers, metadataTimeoutMs: 0 });
  fetcher.on('progress', (progress) => {
    if (progress.totalBlocks > 0) entry.metadataProgress = progress.receivedBlocks / progress.totalBlocks;
  });
  fetcher
    .fetch(abort.signal)
    .then(
      async (meta) => {
        if (entry.fetching !== abort) return;
        await gotMetadata(ctx, entry, meta);
        // Stopped (or the daemon closed) while the .torrent was written: stopEntry aborted it.
        if (entry.fetching !== abort || abort.signal.aborted) return;
        entry.fetching = undefined;
        startSession(ctx, entry);
      },
      (error: unknown) => {
        if (entry.fetching !== abort) return;
        entry.fetching = undefined;
        entry.phase = 'stopped';
        if (abort.signal.aborted) return;
        entry.state.error = { kind: 'local', message: (error as Error).message };
        ctx.log(
          'error',
          `torrent ${entry.id} (${entry.hash}): metadata fetch failed: ${(error as Error).message}`,
        );
        ctx.changed(entry);
      },
    )
    .catch((error: unknown) => ctx.log('error', `torrent ${entry.id}: ${(error as Error).message}`));
}

/** A magnet's metadata arrived: kept as `torrents/<hash>.torrent` from now on. */
async function gotMetadata(
  ctx: RunnerContext,
  entry: DaemonTorrentEntry,
  meta: TorrentMetadata,
): Promise<void> {
  entry.meta = meta;
  entry.state.name = meta.name;
  entry.metadataProgress = 1;
  entry.lastHave = new Bitfield(meta.pieceCount);
  const bytes = buildTorrentFile(meta.infoBytes, { announceTiers: entry.tiers });
  try {
    await ctx.folder.saveMetainfo(entry.hash, bytes);
  } catch (error) {
    ctx.log('error', `torrent ${entry.id}: cannot write its .torrent file: ${(error as Error).message}`);
  }
  ctx.log('info', `torrent ${entry.id} (${meta.name}): metadata received`);
  await ctx.save(entry);
}

/** Runs the torrent's session; a session that cannot even be made (say, an unusable folder) is the torrent's error. */
function startSession(ctx: RunnerContext, entry: DaemonTorrentEntry): void {
  try {
    runSession(ctx, entry);
  } catch (error) {
    entry.session = undefined;
    entry.phase = 'stopped';
    entry.state.error = { kind: 'local', message: (error as Error).message };
    ctx.log('error', `torrent ${entry.id}: cannot start: ${(error as Error).message}`);
  }
}

function runSession(ctx: RunnerContext, entry: DaemonTorrentEntry): void {
  const meta = entry.meta!;
  const settings = ctx.settings();
  const session = ctx.client.add(
    entry.state.trackerList ? { ...meta, announceTiers: entry.state.trackerList } : meta,
    {
      path: entry.state.savePath,
      seed: true,
      uploadSlots: settings['upload-slots-per-torrent'],
      ...(entry.magnet && entry.magnet.peers.length > 0 ? { peers: entry.magnet.peers } : {}),
      ...sessionChoices(entry, ctx.folder),
    },
  );
  entry.session = session;
  applyTorrentLimits(entry);
  // Status 1 (check wait) until its check has its turn (the client checks a few torrents at a
  // time, StartGate) and reports progress; then status 2 (checking), as Transmission shows them.
  entry.phase = 'check-wait';
  entry.checkProgress = 0;
  const label = `torrent ${entry.id} (${meta.name})`;
  // A stopped session may still report its check while it winds down: it no longer speaks for the entry.
  session.on('checking', (progress) => {
    if (entry.session !== session) return;
    entry.phase = 'checking';
    entry.checkProgress = progress.total > 0 ? progress.checked / progress.total : 0;
  });
  session.on('resume', (info) =>
    ctx.log('debug', `${label}: resume record ${info.record}, ${info.piecesHashed} pieces hashed`),
  );
  session.on('resume-warning', ({ message }) => ctx.log('info', `${label}: resume: ${message}`));
  session.on('ready', (info) => {
    if (entry.session !== session) return;
    entry.phase = 'running';
    entry.checkProgress = 0;
    ctx.ready(entry, info);
  });
  session.on('done', () => {
    if (entry.state.doneDate === 0) {
      entry.state.doneDate = ctx.now();
      ctx.log('info', `${label}: complete`);
      void ctx.save(entry);
    }
    // A finished download moves to the seed queue (and frees its download slot).
    ctx.changed(entry);
  });
  session.on('error', (error) => {
    entry.state.error = { kind: 'local', message: error.message };
    // Kept (a restart tries it again) and shown by `recently-active` once saved.
    void ctx.save(entry);
    ctx.log('error', `${label}: ${error.message}`);
    ctx.changed(entry);
  });
  session.on('internal-error', ({ error }) => ctx.log('error', `${label}: internal error: ${error.message}`));
  session.on('peer-connected', ({ address }) => ctx.log('debug', `${label}: peer ${address} connected`));
  session.on('tracker-response', ({ url, response }) => {
    const now = Math.floor(ctx.now() / 1000);
    entry.trackerInfo.set(url, {
      lastAnnounceTime: now,
      succeeded: true,
      result: 'Success',
      peerCount: response.peers.length,
      nextAnnounceTime: now + response.interval,
      seeders: response.seeders ?? -1,
      leechers: response.leechers ?? -1,
    });
    if (entry.state.error?.kind !== 'local') entry.state.error = undefined;
  });
  session.on('tracker-warning', ({ url, message }) => {
    const info = entry.trackerInfo.get(url);
    if (info) info.result = message;
    entry.state.error = { kind: 'tracker-warning', message };
  });
  session.on('tracker-error', ({ url, message }) => {
    const previous = entry.trackerInfo.get(url);
    entry.trackerInfo.set(url, {
      lastAnnounceTime: Math.floor(ctx.now() / 1000),
      succeeded: false,
      result: message,
      peerCount: 0,
      nextAnnounceTime: 0,
      seeders: previous?.seeders ?? -1,
      leechers: previous?.leechers ?? -1,
    });
    if (entry.state.error?.kind !== 'local') entry.state.error = { kind: 'tracker-error', message };
  });
  session.start().catch((error: unknown) => {
    entry.state.error = { kind: 'local', message: (error as Error).message };
    ctx.log('error', `${label}: cannot start: ${(error as Error).message}`);
  });
}

/**
 * Stops the torrent: a metadata fetch is aborted, a session stopped (trackers told `stopped`,
 * the resume record written) and its bytes folded into the state's totals.
 */
export function stopEntry(
  ctx: RunnerContext,
  entry: DaemonTorrentEntry,
): Promise<{ uploaded: number; downloaded: number }> {
  entry.verifying = false;
  const stopping = stopRun(ctx, entry);
  // `entry.stopping` is set while the stop is under way (a start waits for it), then cleared.
  const settled = stopping.then(
    () => undefined,
    () => undefined,
  );
  entry.stopping = settled;
  void settled.then(() => {
    if (entry.stopping === settled) entry.stopping = undefined;
  });
  return stopping;
}

/** Removes a stopped, removed torrent's files from the state folder. */
export async function forgetTorrent(folder: StateFolder, entry: DaemonTorrentEntry): Promise<void> {
  await folder.removeTorrent(entry.hash);
  // The part file holds bytes of wanted pieces in unwanted files: the torrent's, gone with it.
  await rm(partFilePath(folder, entry.hash), { force: true });
}

async function stopRun(
  ctx: RunnerContext,
  entry: DaemonTorrentEntry,
): Promise<{ uploaded: number; downloaded: number }> {
  entry.fetching?.abort();
  entry.fetching = undefined;
  const session = entry.session;
  const checked = entry.phase === 'running';
  entry.phase = 'stopped';
  if (!session) return { uploaded: 0, downloaded: 0 };
  const run = entry.runBytes;
  const have = session.have;
  // Stopped during its check, the session knows less than the last run did: keep that.
  if (checked) entry.lastHave = new Bitfield(have.size, have.bytes);
  entry.session = undefined;
  entry.state.uploadedEver += run.uploaded;
  entry.state.downloadedEver += run.downloaded;
  entry.state.corruptEver += run.wasted;
  await ctx.client.remove(session);
  // The stop itself may have sent the last blocks: counted from the stopped session.
  const after = session.stats();
  entry.state.uploadedEver += after.uploadedBytes - run.uploaded;
  entry.state.downloadedEver += after.downloadedBytes - run.downloaded;
  return { uploaded: after.uploadedBytes, downloaded: after.downloadedBytes };
}
