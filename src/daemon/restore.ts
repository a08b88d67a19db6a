/** Bringing a torrent back from the state folder, and carrying its resume record along a move. */
import { Bitfield } from '../bitfield.js';
import { parseMagnet } from '../metainfo/magnet.js';
import { parseTorrent } from '../metainfo/parse-torrent.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { decodeResumeRecord, encodeResumeRecord } from '../storage/resume-record.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import { moveTorrentData } from './file-ops.js';
import { mapLimit } from './map-limit.js';
import { withFileNames } from './rename-path.js';
import type { StateFolder } from './state-folder.js';
import type { TorrentState } from './torrent-state.js';

/**
 * Gives the entry its metadata (parsed, checked and renamed by restoreAll) or magnet and, for the
 * views of a paused torrent, the verified pieces its resume record holds.
 */
export async function restoreEntry(
  entry: DaemonTorrentEntry,
  meta: TorrentMetadata | undefined,
  folder: StateFolder,
): Promise<void> {
  if (entry.state.magnet !== undefined) entry.magnet = parseMagnet(entry.state.magnet);
  if (meta === undefined) return;
  entry.meta = meta;
  entry.lastHave = new Bitfield(meta.pieceCount);
  const bytes = await folder.loadResumeRecord(entry.hash);
  if (!bytes) return;
  try {
    const record = decodeResumeRecord(bytes, { ...meta, fileCount: meta.files.length });
    if (record.savePath === entry.state.savePath) entry.lastHave = record.have;
  } catch {
    // A bad record is the session's to report (resume-warning) when the torrent starts.
  }
}

/**
 * After a move of the files (same bytes, same mtimes), points the torrent's resume record at the
 * new folder, so the restart there trusts it instead of hashing every piece. Nothing when there
 * is no usable record.
 */
export async function moveResumeRecord(
  folder: StateFolder,
  entry: DaemonTorrentEntry,
  savePath: string,
): Promise<void> {
  const meta = entry.meta;
  if (!meta) return;
  const bytes = await folder.loadResumeRecord(entry.hash);
  if (!bytes) return;
  try {
    const record = decodeResumeRecord(bytes, { ...meta, fileCount: meta.files.length });
    if (record.savePath !== entry.state.savePath) return;
    await folder.saveResumeRecord(entry.hash, encodeResumeRecord({ ...record, savePath }));
  } catch {
    // unusable: the restart checks every piece
  }
}

/**
 * Every torrent of the state folder, in queue order, renumbered from 0; an entry that cannot be
 * read or parsed is skipped and reported through `warn` (the others come back).
 */
export async function restoreAll(
  folder: StateFolder,
  makeEntry: (state: TorrentState) => DaemonTorrentEntry,
  warn: (message: string) => void,
): Promise<DaemonTorrentEntry[]> {
  const stored = await folder.loadTorrents(warn);
  stored.sort((a, b) => a.state.queuePosition - b.state.queuePosition);
  const parsed: { state: TorrentState; meta: TorrentMetadata | undefined }[] = [];
  for (const item of stored) {
    try {
      // Checked before an entry (and its id) is made for it; parsed once.
      const own = item.metainfo !== undefined ? parseTorrent(item.metainfo) : undefined;
      if (own !== undefined && own.infoHashHex !== item.state.hash)
        throw new Error('its .torrent file is another torrent');
      // Renamed paths (torrent-rename-path) replace the metainfo's; a list that does not fit throws.
      const meta =
        own !== undefined && item.state.filePaths
          ? withFileNames(own, item.state.filePaths, item.state.name)
          : own;
      if (item.state.magnet !== undefined) parseMagnet(item.state.magnet);
      parsed.push({ state: item.state, meta });
    } catch (error) {
      warn(`skipped torrent ${item.state.hash}: ${(error as Error).message}`);
    }
  }
  // Ids in queue order; the resume records (read for the views of a paused torrent) a few at a time.
  const entries = parsed.map(({ state }, position) => {
    state.queuePosition = position;
    return makeEntry(state);
  });
  await mapLimit(entries, 16, (entry, index) => restoreEntry(entry, parsed[index]!.meta, folder));
  return entries;
}

/**
 * Points a stopped torrent at `target`: with `move`, its files go there first and its resume
 * record follows them (same bytes and mtimes: the restart hashes nothing); without, what is there
 * is unknown until checked.
 */
export async function relocate(
  folder: StateFolder,
  entry: DaemonTorrentEntry,
  target: string,
  move: boolean,
): Promise<void> {
  const from = entry.state.savePath;
  if (from === target) return;
  if (move && entry.meta) {
    await moveTorrentData(from, target, entry.meta);
    await moveResumeRecord(folder, entry, target);
  } else entry.lastHave = undefined;
  entry.state.savePath = target;
}
