/** Bringing a torrent back from the state folder, and carrying its resume record along a move. */
import { Bitfield } from '../bitfield.js';
import { parseMagnet } from '../metainfo/magnet.js';
import { parseTorrent } from '../metainfo/parse-torrent.js';
import { decodeResumeRecord, encodeResumeRecord } from '../storage/resume-record.js';
import type { DaemonTorrentEntry } from './daemon-torrent.js';
import type { StateFolder } from './state-folder.js';

/**
 * Parses the entry's metainfo (or magnet) and, for the views of a paused torrent, the verified
 * pieces its resume record holds. Throws when the metainfo is not this torrent's.
 */
export async function restoreEntry(
  entry: DaemonTorrentEntry,
  metainfo: Uint8Array | undefined,
  folder: StateFolder,
): Promise<void> {
  if (entry.state.magnet !== undefined) entry.magnet = parseMagnet(entry.state.magnet);
  if (metainfo === undefined) return;
  const meta = parseTorrent(metainfo);
  if (meta.infoHashHex !== entry.hash)
    throw new Error(`its .torrent file is another torrent (${meta.infoHashHex})`);
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
