/**
 * Tells the user which file names a torrent had rewritten (sanitising, duplicate
 * renaming, long names cut) and which symlinks are not created, before a download
 * starts: one warning line per file on stderr (a summary past MAX_LINES), or one
 * `renamed-files` event with --json.
 */
import type { TorrentMetadata } from '../index.js';
import { renamedFiles, skippedSymlinks } from '../metainfo/index.js';
import type { Reporter } from './reporter.js';

/** Warning lines printed before the rest are summed up. */
export const MAX_LINES = 20;

/** A hostile name shown on a terminal: control characters escaped (\xNN), so it cannot drive the terminal. */
export function printable(name: string): string {
  return name.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** In quotes, for warning lines. */
function quoted(name: string): string {
  return `"${printable(name)}"`;
}

/** The warning lines for `meta` (empty when every name was used as given). */
export function nameWarningLines(meta: Pick<TorrentMetadata, 'files'>): string[] {
  const lines: string[] = [];
  const renamed = renamedFiles(meta);
  for (const file of renamed.slice(0, MAX_LINES)) {
    lines.push(`renamed ${quoted(file.originalPath)} to ${quoted(file.path)}`);
  }
  if (renamed.length > MAX_LINES) {
    lines.push(`${renamed.length - MAX_LINES} more files renamed (lodestone info lists them all)`);
  }
  for (const link of skippedSymlinks(meta)) {
    lines.push(
      `symlink ${quoted(link.path)} -> ${quoted(link.target)} not created: the target leaves the torrent's folder`,
    );
  }
  return lines;
}

export function reportNameChanges(meta: Pick<TorrentMetadata, 'files'>, reporter: Reporter): void {
  if (reporter.mode === 'json') {
    const files = renamedFiles(meta);
    const symlinks = skippedSymlinks(meta);
    if (files.length > 0 || symlinks.length > 0) {
      reporter.event('renamed-files', { files, skippedSymlinks: symlinks });
    }
    return;
  }
  for (const line of nameWarningLines(meta)) process.stderr.write(`lodestone: warning: ${line}\n`);
}
