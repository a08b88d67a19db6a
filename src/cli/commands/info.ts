import { describeMagnet, describeTorrent, formatBytes } from '../../metainfo/index.js';
import { printable } from '../name-warnings.js';
import { loadSource } from '../source.js';

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
  process.stdout.write(loaded.kind === 'torrent' ? renderTorrent(loaded.meta) : renderMagnet(description));
}

function renderTorrent(meta: Parameters<typeof describeTorrent>[0]): string {
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
    lines.push(`  ${formatBytes(file.length).padStart(11)}  ${printable(file.path)}`);
  }
  if (description.symlinks.length > 0) lines.push(`Symlinks (${description.symlinks.length}):`);
  for (const link of description.symlinks) {
    const target =
      link.target === null
        ? `${printable(link.originalTarget)} (not created: the target leaves the torrent's folder)`
        : printable(link.target);
    lines.push(`  ${printable(link.path)} -> ${target}`);
  }
  if (description.renamedFiles.length > 0) {
    lines.push(`Renamed (${description.renamedFiles.length}) to be safe on disk:`);
  }
  for (const file of description.renamedFiles) {
    lines.push(`  ${printable(file.originalPath)} -> ${printable(file.path)}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderMagnet(description: object): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(description)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? (value.length === 0 ? 'none' : value.join(', ')) : String(value);
    lines.push(`${`${key}:`.padEnd(14)}${text}`);
  }
  return `${lines.join('\n')}\n`;
}
