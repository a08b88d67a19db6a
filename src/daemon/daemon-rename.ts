/**
 * The daemon's `renamePath` for one torrent: the plan (rename-path.ts), the rename on disk while
 * the torrent is stopped (its session's storage holds paths), then the new names in its state
 * and metadata. The resume record needs no change: it keeps sizes and mtimes by file index, and
 * a rename changes neither, so the restart trusts it and hashes nothing.
 */
import { DaemonError } from '../errors.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import { planRename, renameOnDisk, withFileNames } from './rename-path.js';

export interface RenameHooks {
  /** Stops the torrent's session (its storage is let go, the resume record written). */
  stop(entry: DaemonTorrentEntry): Promise<unknown>;
  /** Starts it again (it was running before the rename). */
  start(entry: DaemonTorrentEntry): void;
  save(entry: DaemonTorrentEntry): Promise<void>;
  log(message: string): void;
}

export async function renameEntryPath(
  entry: DaemonTorrentEntry,
  path: string,
  newName: string,
  hooks: RenameHooks,
): Promise<{ path: string; name: string }> {
  const meta = entry.meta;
  if (!meta) throw new DaemonError('LODESTONE_ERR_DAEMON_TORRENT', 'the torrent has no metadata yet');
  // One change of its files at a time (another rename, a move, a removal): the plan reads the paths now.
  if (entry.busy)
    throw new DaemonError(
      'LODESTONE_ERR_DAEMON_TORRENT',
      'the torrent is busy (a rename, move or removal): try again',
    );
  // Refused before anything stops: a bad name leaves the torrent as it was.
  const plan = planRename(
    meta.files.map((file) => file.path),
    path,
    newName,
  );
  const running = entry.session !== undefined || entry.fetching !== undefined;
  entry.busy = true;
  try {
    if (running) await hooks.stop(entry);
    const moved = await renameOnDisk(entry.state.savePath, plan.old, newName);
    const name = plan.name ?? meta.name;
    entry.meta = withFileNames(meta, plan.paths, name);
    entry.state.filePaths = plan.paths;
    entry.state.name = name;
    await hooks.save(entry);
    hooks.log(
      `torrent ${entry.id}: renamed ${path} to ${newName}${moved ? '' : ' (not on disk yet: the new name is used when it is written)'}`,
    );
  } finally {
    entry.busy = false;
    // A refused or failed rename leaves the torrent as it was, running again if it was.
    if (running) hooks.start(entry);
  }
  return { path, name: newName };
}
