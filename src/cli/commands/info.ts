import { describeMagnet, describeTorrent, formatBytes } from '../../metainfo/index.js';
import { loadSource } from '../source.js';
import { terminalText } from '../terminal-text.js';

export interface InfoOptions {
  json?: boolean;
}

export async function infoCommand(source: string, options: InfoOptions): Promise<void> {
  const loaded = await loadSource(source);
  const description = loaded.kind === 'torrent' ? describeTorrent(loaded.meta) : describeMagnet(loaded.link);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(description, null, 2)}\n`);
    return;
  }
  const lines = loaded.kind === 'torrent' ? renderTorrent(loaded.meta) : renderMagnet(description);
  // Every field but the info-hash and sizes came from the torrent or link: escaped, line by line.
  process.stdout.write(`${lines.map(terminalText).join('\n')}\n`);
}

/** Raw lines (not yet escaped). */
function renderTorrent(meta: Parameters<typeof describeTorrent>[0]): string[] {
  const lines: string[] = [];
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
  const description = describeTorrent(meta);
  lines.push(`Files (${description.files.length}):`);
  for (const file of description.files) {
    lines.push(`  ${formatBytes(file.length).padStart(11)}  ${file.path}`);
  }
  if (description.symlinks.length > 0) lines.push(`Symlinks (${description.symlinks.length}):`);
  for (const link of description.symlinks) {
    const target =
      link.target === null
        ? `${link.originalTarget} (not created: the target leaves the torrent's folder)`
        : link.target;
    lines.push(`  ${link.path} -> ${target}`);
  }
  if (description.renamedFiles.length > 0) {
    lines.push(`Renamed (${description.renamedFiles.length}) to be safe on disk:`);
  }
  for (const file of description.renamedFiles) {
    lines.push(`  ${file.originalPath} -> ${file.path}`);
  }
  return lines;
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
