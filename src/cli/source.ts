import { readFile } from 'node:fs/promises';
import {
  LodestoneError,
  type MagnetLink,
  parseMagnet,
  parseTorrent,
  type TorrentMetadata,
} from '../index.js';

export type Source = { kind: 'torrent'; meta: TorrentMetadata } | { kind: 'magnet'; link: MagnetLink };

/** Reads a command-line argument that is either a magnet URI or a .torrent path. */
export async function loadSource(argument: string): Promise<Source> {
  if (argument.startsWith('magnet:')) return { kind: 'magnet', link: parseMagnet(argument) };
  let bytes: Buffer;
  try {
    bytes = await readFile(argument);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (code ?? 'unreadable');
    throw new LodestoneError('LODESTONE_ERR_IO', `cannot read ${argument}: ${why}`);
  }
  return { kind: 'torrent', meta: parseTorrent(bytes) };
}
