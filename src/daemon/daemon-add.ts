/** `add`: a torrent from metainfo bytes, a `.torrent` file or a magnet link, made into a daemon entry. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DaemonError, isLodestoneError } from '../errors.js';
import { parseMagnet } from '../metainfo/magnet.js';
import { parseTorrent } from '../metainfo/parse-torrent.js';
import type { MagnetLink, TorrentMetadata } from '../metainfo/types.js';
import type { AddRequest, AddResult } from './daemon-api.js';
import type { DaemonCore } from './daemon-core.js';
import { applyPatch } from './daemon-patch.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import { renumber } from './queue-control.js';
import type { DaemonSettings } from './settings-types.js';
import { applyFileChoices, applyTorrentLimits } from './torrent-apply.js';
import { startEntry } from './torrent-runner.js';
import { defaultTorrentSettings, type TorrentState } from './torrent-state.js';

/** The most a `.torrent` file may weigh (as the CLI reads them). */
const MAX_TORRENT_FILE_BYTES = 64 * 1024 * 1024;

export interface AddContext {
  settings: Readonly<DaemonSettings>;
  now: number;
  find(hash: string): DaemonTorrentEntry | undefined;
  newEntry(state: TorrentState): DaemonTorrentEntry;
  /** Called with the new entry in the same turn as `find`: a later add of the torrent finds it. */
  reserve(entry: DaemonTorrentEntry): void;
  queueLength: number;
}

function refuse(message: string, cause?: unknown): DaemonError {
  return new DaemonError(
    'LODESTONE_ERR_DAEMON_TORRENT',
    message,
    cause === undefined ? undefined : { cause },
  );
}

async function parseSource(
  request: AddRequest,
): Promise<{ meta: TorrentMetadata; bytes: Uint8Array } | { link: MagnetLink; uri: string }> {
  const { source } = request;
  try {
    switch (source.kind) {
      case 'metainfo':
        return { meta: parseTorrent(source.bytes), bytes: source.bytes };
      case 'file': {
        const bytes = await readFile(source.path).catch((error: unknown) => {
          throw refuse(`cannot read ${source.path}: ${(error as Error).message}`, error);
        });
        if (bytes.length > MAX_TORRENT_FILE_BYTES)
          throw refuse(`${source.path} is too big for a .torrent file`);
        return { meta: parseTorrent(bytes), bytes };
      }
      case 'magnet': {
        const link = parseMagnet(source.uri);
        if (!link.infoHashHex) throw refuse('only magnet links with a v1 info-hash (btih) can be added');
        return { link, uri: source.uri };
      }
    }
  } catch (error) {
    if (error instanceof DaemonError) throw error;
    if (isLodestoneError(error)) throw refuse(`invalid torrent: ${error.message}`, error);
    throw error;
  }
}

/** What {@link addTorrent} made: a new entry and its `.torrent` bytes to save, or the existing entry. */
export type PreparedAdd =
  | { entry: DaemonTorrentEntry; duplicate: false; metainfo: Uint8Array | undefined }
  | { entry: DaemonTorrentEntry; duplicate: true };

/**
 * Makes the entry (or finds the existing one: `duplicate`); writes nothing: the caller saves it
 * (StateFolder.saveNewTorrent) and starts it. From the lookup of the hash to `reserve` nothing
 * waits, so two adds of one torrent at once make one entry.
 */
export async function addTorrent(request: AddRequest, ctx: AddContext): Promise<PreparedAdd> {
  const parsed = await parseSource(request);
  const hash = 'meta' in parsed ? parsed.meta.infoHashHex : parsed.link.infoHashHex!;
  const existing = ctx.find(hash);
  if (existing) return { entry: existing, duplicate: true };
  const settings = ctx.settings;
  const state: TorrentState = {
    hash,
    name: 'meta' in parsed ? parsed.meta.name : (parsed.link.name ?? hash),
    magnet: 'uri' in parsed ? parsed.uri : undefined,
    savePath: resolve(request.downloadDir ?? settings['download-dir']),
    paused: request.paused ?? !settings['start-added-torrents'],
    addedDate: ctx.now,
    doneDate: 0,
    activityDate: 0,
    uploadedEver: 0,
    downloadedEver: 0,
    corruptEver: 0,
    settings: {
      ...defaultTorrentSettings(settings['peer-limit-per-torrent']),
      seedRatioLimit: settings['ratio-limit'],
      seedIdleLimit: settings['idle-seeding-limit'],
    },
    filesWanted: undefined,
    filePriorities: undefined,
    queuePosition: ctx.queueLength,
    trackerList: undefined,
    error: undefined,
  };
  const entry = ctx.newEntry(state);
  if ('meta' in parsed) entry.meta = parsed.meta;
  else entry.magnet = parsed.link;
  const patch = {
    ...request.settings,
    ...(request.filesWanted ? { filesWanted: request.filesWanted } : {}),
    ...(request.filesUnwanted ? { filesUnwanted: request.filesUnwanted } : {}),
    ...(request.priorityHigh ? { priorityHigh: request.priorityHigh } : {}),
    ...(request.priorityNormal ? { priorityNormal: request.priorityNormal } : {}),
    ...(request.priorityLow ? { priorityLow: request.priorityLow } : {}),
  };
  applyPatch(entry, patch, { dryRun: true });
  applyPatch(entry, patch, { dryRun: false });
  ctx.reserve(entry);
  return { entry, duplicate: false, metainfo: 'bytes' in parsed ? parsed.bytes : undefined };
}

/**
 * `add` of the Daemon: the entry made, its files made durable (never answered before), then it
 * joins the list and the queue. Two adds of one torrent at once: the second waits for the first.
 */
export async function addToDaemon(core: DaemonCore, request: AddRequest): Promise<AddResult> {
  core.assertOpen();
  const prepared = await addTorrent(request, {
    settings: core.settings(),
    now: core.now(),
    find: (hash) => core.torrents.find((entry) => entry.hash === hash) ?? core.adding.get(hash)?.entry,
    newEntry: (state) => core.newEntry(state),
    reserve: (entry) => {
      let settle!: (ok: boolean) => void;
      const done = new Promise<boolean>((resolve) => {
        settle = resolve;
      });
      core.adding.set(entry.hash, { entry, done, settle });
    },
    queueLength: core.torrents.length + core.adding.size,
  });
  if (prepared.duplicate) {
    // The same torrent added a moment ago and not yet durable: the answer waits for it.
    const pending = core.adding.get(prepared.entry.hash);
    if (pending?.entry === prepared.entry && !(await pending.done)) return addToDaemon(core, request);
    return { torrent: prepared.entry, duplicate: true };
  }
  const entry = prepared.entry;
  const pending = core.adding.get(entry.hash)!;
  try {
    // Never answered before the torrent would survive a crash (its files written and fsync'd).
    await core.folder.saveNewTorrent(entry.state, prepared.metainfo);
  } catch (error) {
    core.adding.delete(entry.hash);
    pending.settle(false);
    throw error;
  }
  core.adding.delete(entry.hash);
  core.torrents.push(entry);
  // Adds running at the same time may end in another order: numbered by the list, in turn (the
  // whole list only then; one add at a time is already last: O(1)).
  if (entry.state.queuePosition !== core.torrents.length - 1) renumber(core.torrents);
  core.countAdded();
  pending.settle(true);
  // Writes only when the renumbering moved it (adds ending out of order).
  await core.save(entry);
  core.log(
    'info',
    `torrent ${entry.id} (${entry.summary().name}) added${entry.state.paused ? ', paused' : ''}`,
  );
  applyFileChoices(entry);
  applyTorrentLimits(entry);
  if (!entry.state.paused && entry.meta) {
    // As Transmission: a started add checks its data first, outside the queue (a verify takes no
    // slot; the client checks a few torrents at a time, the others show check wait), then joins
    // the queue knowing whether it downloads or seeds. The answer does not wait for the check.
    entry.verifying = true;
    startEntry(core.runner, entry);
  }
  // Last in the queue: it joins by the queue's counts, not a plan over all (O(1)).
  else core.scheduler.admit(entry);
  return { torrent: entry, duplicate: false };
}
