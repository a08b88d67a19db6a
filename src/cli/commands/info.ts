import { describeMagnet, describeTorrent, formatBytes, renamedFiles } from '../../metainfo/index.js';
import { loadSource } from '../source.js';
import { terminalText } from '../terminal-text.js';

export interface InfoOptions {
  json?: boolean;
}

export async function infoCommand(source: string, options: InfoOptions): Promise<void> {
  const loaded = await loadSource(source);
  if (options.json) {
    const description =
      loaded.kind === 'torrent' ? describeTorrent(loaded.meta) : describeMagnet(loaded.link);
    process.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
    return;
  }
  if (loaded.kind === 'magnet') {
    writeLines(renderMagnet(describeMagnet(loaded.link)));
    return;
  }
  renderTorrent(loaded.meta, writeLines);
}

/**
 * Writes raw lines, each escaped: every field but the info-hash and sizes came from the
 * torrent or link. One write per batch, not one string for a whole 100,000-file list.
 */
function writeLines(lines: readonly string[]): void {
  if (lines.length > 0) process.stdout.write(`${lines.map(terminalText).join('\n')}\n`);
}

/** Hands raw lines (not yet escaped) to `write`, the file list in batches. */
function renderTorrent(meta: Parameters<typeof describeTorrent>[0], write: (lines: string[]) => void): void {
  let lines: string[] = [];
  const field = (label: string, value: string): void => {
    lines.push(`${`${label}:`.padEnd(14)}${value}`);
  };
  field('Name', meta.name);
  field('Info-hash', meta.infoHashHex);
  field('Size', `${formatBytes(meta.totalLength)} (${meta.totalLength} bytes)`);
  field('Pieces', `${meta.pieceCount} × ${formatBytes(meta.pieceLength)}`);
  field('Private', meta.private ? 'yes' : 'no');
  field('Version', meta.version === 'hybrid' ? 'hybrid v1+v2 (v1 used)' : 'v1');
  if (meta.createdBy) field('Created by', meta.createdBy);
  if (meta.creationDate) field('Created', meta.creationDate.toISOString());
  if (meta.comment) field('Comment', meta.comment);
  if (meta.announceTiers.length === 0) field('Trackers', 'none');
  meta.announceTiers.forEach((tier, i) => {
    field(i === 0 ? 'Trackers' : '', `tier ${i + 1}: ${tier.join(', ')}`);
  });
  if (meta.webSeeds.length > 0) field('Web seeds', meta.webSeeds.join(', '));
  for (const warning of meta.warnings ?? []) field('Warning', warning.message);
  // The same files as describeTorrent lists (padding files and symlinks left out), streamed.
  const real = (file: (typeof meta.files)[number]): boolean => !file.padding && !file.symlink;
  let count = 0;
  for (const file of meta.files) if (real(file)) count++;
  lines.push(`Files (${count}):`);
  // The index is what `download --files` takes: the position in the torrent's list (padding counted).
  const width = String(Math.max(0, meta.files.length - 1)).length;
  for (const [index, file] of meta.files.entries()) {
    if (!real(file)) continue;
    lines.push(
      `  ${String(index).padStart(width)}  ${formatBytes(file.length).padStart(11)}  ${file.path.join('/')}`,
    );
    if (lines.length >= 1000) {
      write(lines);
      lines = [];
    }
  }
  const symlinks = meta.files.filter((file) => file.symlink);
  if (symlinks.length > 0) lines.push(`Symlinks (${symlinks.length}):`);
  for (const file of symlinks) {
    const link = file.symlink!;
    const target =
      link.target === null
        ? `${link.original.join('/')} (not created: the target leaves the torrent's folder)`
        : link.target.join('/');
    lines.push(`  ${file.path.join('/')} -> ${target}`);
  }
  const renamed = renamedFiles(meta);
  if (renamed.length > 0) lines.push(`Renamed (${renamed.length}) to be safe on disk:`);
  for (const file of renamed) lines.push(`  ${file.originalPath} -> ${file.path}`);
  write(lines);
}

/** Raw lines (not yet escaped). */
function renderMagnet(description: object): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(description)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? (value.length === 0 ? 'none' : value.join(', ')) : String(value);
    lines.push(`${`${key}:`.padEnd(14)}${text}`);
  }
  return lines;
}
