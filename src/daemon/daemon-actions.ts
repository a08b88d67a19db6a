/**
 * The daemon's actions on torrents (start, stop, verify, reannounce, remove, set-location,
 * rename-path, set, queue moves), over the Daemon's insides ({@link DaemonCore}). The Daemon's
 * methods of the same names call these; see docs/daemon.md.
 */
import { resolve } from 'node:path';
import { DaemonError } from '../errors.js';
import type { QueueMove, TorrentId, TorrentPatch, TorrentSelector } from './daemon-api.js';
import type { DaemonCore } from './daemon-core.js';
import { applyPatch } from './daemon-patch.js';
import { renameEntryPath } from './daemon-rename.js';
import { deleteTorrentData } from './file-ops.js';
import { moveEntries, renumber, setEntryPosition } from './queue-control.js';
import { relocate } from './restore.js';
import { applyFileChoices, applyTorrentLimits } from './torrent-apply.js';
import { forgetTorrent, startEntry } from './torrent-runner.js';

export async function startTorrents(
  core: DaemonCore,
  selector: TorrentSelector,
  options: { now?: boolean } = {},
): Promise<void> {
  core.assertOpen();
  // `now` skips the queue; otherwise the queue starts it when it has a slot.
  for (const entry of core.select(selector)) {
    core.scheduler.prepareStart(entry, options.now === true);
    // A stop still under way (trackers told, record written) finishes before the new session reads.
    await entry.stopping;
    if (options.now === true) startEntry(core.runner, entry);
    await core.save(entry);
  }
  core.applyQueue();
}

export async function stopTorrents(core: DaemonCore, selector: TorrentSelector): Promise<void> {
  core.assertOpen();
  for (const entry of core.select(selector)) {
    entry.state.paused = true;
    entry.bypassQueue = false;
    await core.stopEntry(entry);
    await core.save(entry);
  }
  core.applyQueue();
}

export async function verifyTorrents(core: DaemonCore, selector: TorrentSelector): Promise<void> {
  core.assertOpen();
  for (const entry of core.select(selector)) {
    if (!entry.meta) continue;
    entry.busy = true;
    try {
      await core.stopEntry(entry);
      // Without its record, the next start reads and hashes every piece.
      await core.folder.removeResumeRecord(entry.hash);
      entry.lastHave = undefined;
      entry.verifying = true;
      startEntry(core.runner, entry);
    } finally {
      entry.busy = false;
    }
  }
}

export async function reannounceTorrents(core: DaemonCore, selector: TorrentSelector): Promise<void> {
  for (const entry of core.select(selector)) entry.session?.reannounce();
}

export async function removeTorrents(
  core: DaemonCore,
  selector: TorrentSelector,
  options: { deleteData?: boolean } = {},
): Promise<void> {
  core.assertOpen();
  for (const entry of core.select(selector)) {
    // Gone for the queue from now on (it must not start it again during the stop).
    entry.busy = true;
    await core.stopEntry(entry);
    if (options.deleteData && entry.meta) await deleteTorrentData(entry.state.savePath, entry.meta);
    core.torrents.splice(core.torrents.indexOf(entry), 1);
    renumber(core.torrents);
    await forgetTorrent(core.folder, entry);
    core.removed.push({ id: entry.id, at: core.now() });
    // Only the last minute is ever asked for: the list stays bounded on a long run.
    while (core.removed.length > 0 && core.removed[0]!.at < core.now() - 60_000) core.removed.shift();
    core.log('info', `torrent ${entry.id} removed${options.deleteData ? ' with its data' : ''}`);
  }
  core.applyQueue();
}

export async function setTorrentsLocation(
  core: DaemonCore,
  selector: TorrentSelector,
  location: string,
  options: { move: boolean },
): Promise<void> {
  core.assertOpen();
  const target = resolve(location);
  for (const entry of core.select(selector)) {
    const running = entry.session !== undefined || entry.fetching !== undefined;
    entry.busy = true;
    await core.stopEntry(entry);
    try {
      await relocate(core.folder, entry, target, options.move);
      await core.save(entry);
    } finally {
      entry.busy = false;
      // A refused or failed move leaves the torrent where it was, running again if it was.
      if (running) startEntry(core.runner, entry);
    }
  }
  core.applyQueue();
}

/** Renames a file or folder of one torrent (Transmission's `torrent-rename-path`); see rename-path.ts. */
export async function renameTorrentPath(
  core: DaemonCore,
  id: TorrentId,
  path: string,
  newName: string,
): Promise<{ path: string; name: string }> {
  core.assertOpen();
  const entry = core.torrents.find((item) => item.id === id);
  if (!entry) throw new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', `no torrent ${id}`);
  const result = await renameEntryPath(entry, path, newName, {
    stop: (item) => core.stopEntry(item),
    start: (item) => startEntry(core.runner, item),
    save: (item) => core.save(item),
    log: (message) => core.log('info', message),
  });
  core.applyQueue();
  return result;
}

export async function setTorrents(
  core: DaemonCore,
  selector: TorrentSelector,
  patch: TorrentPatch,
): Promise<void> {
  core.assertOpen();
  const entries = core.select(selector);
  // Checked for every torrent first: nothing changes when one of them refuses the patch.
  for (const entry of entries) applyPatch(entry, patch, { dryRun: true });
  for (const entry of entries) {
    applyPatch(entry, patch, { dryRun: false });
    if (patch.queuePosition !== undefined) setEntryPosition(core.torrents, entry, patch.queuePosition);
    applyFileChoices(entry);
    applyTorrentLimits(entry);
    await core.save(entry);
  }
  // Its own seed limits may have changed, or its place in the queue.
  core.scheduler.applySeedLimits();
  core.applyQueue();
}

export async function moveInQueue(
  core: DaemonCore,
  selector: TorrentSelector,
  move: QueueMove,
): Promise<void> {
  core.assertOpen();
  const moved = core.select(selector);
  moveEntries(core.torrents, moved, move);
  for (const entry of core.torrents) await core.save(entry);
  core.applyQueue();
}
