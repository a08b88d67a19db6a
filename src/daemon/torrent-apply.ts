/**
 * A daemon torrent's stored choices (file selection and priorities, sequential order, its own
 * speed limits) turned into the session's options at start and applied live when they change.
 */
import { join } from 'node:path';
import type { AddTorrentOptions } from '../session/client.js';
import type { FileChoice } from '../session/file-selection.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import type { StateFolder } from './state-folder.js';

/** One choice per file of the torrent, from its stored arrays (all wanted, normal by default). */
export function fileChoices(entry: DaemonTorrentEntry): FileChoice[] | undefined {
  const meta = entry.meta;
  if (!meta) return undefined;
  return meta.files.map((_file, index) => ({
    wanted: entry.state.filesWanted?.[index] ?? true,
    priority: entry.state.filePriorities?.[index] ?? 'normal',
  }));
}

/** Where a torrent's part file lives: `<state dir>/parts/<hash>.parts` (docs/file-selection.md). */
export function partFilePath(folder: StateFolder, hash: string): string {
  return join(folder.dir, 'parts', `${hash}.parts`);
}

/** The options of `Client.add` that carry the torrent's stored choices. */
export function sessionChoices(
  entry: DaemonTorrentEntry,
  folder: StateFolder,
): Pick<AddTorrentOptions, 'files' | 'sequential' | 'partFile' | 'downloadLimit' | 'uploadLimit'> {
  const files = fileChoices(entry);
  const { settings } = entry.state;
  return {
    ...(files ? { files } : {}),
    sequential: settings.sequential,
    partFile: partFilePath(folder, entry.hash),
    downloadLimit: settings.downloadLimit ?? 0,
    uploadLimit: settings.uploadLimit ?? 0,
  };
}

/** Applies the stored file choices to the running session, if any. */
export function applyFileChoices(entry: DaemonTorrentEntry): void {
  const files = fileChoices(entry);
  if (entry.session && files) entry.session.setFiles(files);
}

/** Applies the stored sequential flag, speed limits, bandwidth priority and peer limit to the running session, if any. */
export function applyTorrentLimits(entry: DaemonTorrentEntry): void {
  const session = entry.session;
  if (!session) return;
  const { settings } = entry.state;
  session.setSequential(settings.sequential);
  session.setPeerLimit(settings.peerLimit);
  session.setLimits({
    download: settings.downloadLimit ?? 0,
    upload: settings.uploadLimit ?? 0,
    honorsClientLimits: settings.honorsSessionLimits,
    priority: settings.bandwidthPriority,
  });
}
