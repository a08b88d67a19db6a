/**
 * Tells the user, before a download or seed starts, what was odd about the torrent: its
 * warnings (parseTorrent's `meta.warnings`: bytes after the root dictionary, a creation date in
 * milliseconds, ...), the file names it had rewritten (sanitising, duplicate renaming, long names
 * cut) and the symlinks it does not create. One `lodestone: warning:` line each on stderr (escaped:
 * the text came from the torrent; renamed files summed up past MAX_LINES), or with --json one
 * `torrent-warnings` event and one `renamed-files` event.
 */
import type { TorrentMetadata } from '../index.js';
import { renamedFiles, skippedSymlinks } from '../metainfo/index.js';
import type { Reporter } from './reporter.js';
import { terminalText } from './terminal-text.js';

/** Warning lines printed before the rest are summed up. */
export const MAX_LINES = 20;

type WarnedMeta = Pick<TorrentMetadata, 'files' | 'warnings'>;

/** In quotes, for warning lines. */
function quoted(name: string): string {
  return `"${name}"`;
}

/**
 * The warning lines for `meta`, not yet escaped (empty when the torrent parsed cleanly and
 * every name was used as given).
 */
export function torrentWarningLines(meta: WarnedMeta): string[] {
  const lines = (meta.warnings ?? []).map((warning) => warning.message);
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

/** The lines as printed on stderr: prefixed and escaped. */
export function printedWarningLines(meta: WarnedMeta): string[] {
  return torrentWarningLines(meta).map((line) => `lodestone: warning: ${terminalText(line)}`);
}

export function reportTorrentWarnings(meta: WarnedMeta, reporter: Reporter): void {
  if (reporter.mode === 'json') {
    const warnings = meta.warnings ?? [];
    if (warnings.length > 0) {
      reporter.event('torrent-warnings', {
        warnings: warnings.map(({ code, message }) => ({ code, message })),
      });
    }
    const files = renamedFiles(meta);
    const symlinks = skippedSymlinks(meta);
    if (files.length > 0 || symlinks.length > 0) {
      reporter.event('renamed-files', { files, skippedSymlinks: symlinks });
    }
    return;
  }
  for (const line of printedWarningLines(meta)) process.stderr.write(`${line}\n`);
}
