/**
 * Torrents with many files (issue 15, "Memory and file handles"): writes `count` small files
 * under `<dir>/<name>/…` (deep folders, some zero-length files) and returns the .torrent bytes,
 * hashing the content as it is generated (no tool needed, deterministic for a given seed).
 *
 * Also runnable, to reproduce the issue by hand (after `npm run build`):
 *   node dist/test/helpers/many-files.js <dir> <count> [pieceKiB] [maxFileBytes]
 * writes <dir>/content/many/… and <dir>/many.torrent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '../../src/bencode/index.js';

export interface ManyFilesOptions {
  /** Number of files. */
  count: number;
  /** Piece length in bytes. */
  pieceLength: number;
  /** Largest file in bytes; sizes vary from 0 to this. @default 3072 */
  maxFileBytes?: number;
  /** The torrent's name (its top folder). @default 'many' */
  name?: string;
  /** Write the files under `<dir>/<name>`; false only computes the torrent. @default true */
  writeContent?: boolean;
}

/** Size of file `i`: every 50th is empty, the rest spread over 1..maxFileBytes. */
export function manyFileSize(i: number, maxFileBytes: number): number {
  if (i % 50 === 7) return 0;
  return 1 + ((i * 2_654_435_761) % maxFileBytes);
}

/** Path of file `i` below the torrent's folder: up to four folders deep, 100 files per leaf folder. */
export function manyFilePath(i: number): string[] {
  const leaf = Math.floor(i / 100);
  const depth = i % 4;
  const folders = [`d${leaf % 40}`, `e${leaf}`, 'deeper', 'deepest'].slice(0, 1 + depth);
  return [...folders, `file-${i}.bin`];
}

export async function writeManyFilesTorrent(dir: string, options: ManyFilesOptions): Promise<Buffer> {
  const { count, pieceLength } = options;
  const maxFileBytes = options.maxFileBytes ?? 3072;
  const name = options.name ?? 'many';
  const writeContent = options.writeContent ?? true;
  const pool = randomBytes(1024 * 1024);
  const hashes: Buffer[] = [];
  let piece = createHash('sha1');
  let inPiece = 0;
  const files: { length: number; path: string[] }[] = [];
  const madeFolders = new Set<string>();
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const length = manyFileSize(i, maxFileBytes);
    const path = manyFilePath(i);
    files.push({ length, path });
    const start = (i * 7919) % (pool.length - maxFileBytes);
    const content = pool.subarray(start, start + length);
    let done = 0;
    while (done < length) {
      const take = Math.min(pieceLength - inPiece, length - done);
      piece.update(content.subarray(done, done + take));
      done += take;
      inPiece += take;
      if (inPiece === pieceLength) {
        hashes.push(piece.digest());
        piece = createHash('sha1');
        inPiece = 0;
      }
    }
    if (writeContent) {
      const folder = join(dir, name, ...path.slice(0, -1));
      if (!madeFolders.has(folder)) {
        await mkdir(folder, { recursive: true });
        madeFolders.add(folder);
      }
      pending.push(writeFile(join(folder, path[path.length - 1]!), content));
      if (pending.length >= 64) {
        await Promise.all(pending);
        pending = [];
      }
    }
  }
  await Promise.all(pending);
  if (inPiece > 0) hashes.push(piece.digest());
  return encode({
    info: { name, 'piece length': pieceLength, pieces: Buffer.concat(hashes), files },
  });
}

// Runnable by hand (see above).
if (process.argv[1]?.endsWith('many-files.js') && process.argv.length >= 4) {
  const [dir, count, pieceKiB, maxFileBytes] = process.argv.slice(2);
  const torrent = await writeManyFilesTorrent(join(dir!, 'content'), {
    count: Number(count),
    pieceLength: Number(pieceKiB ?? 256) * 1024,
    ...(maxFileBytes ? { maxFileBytes: Number(maxFileBytes) } : {}),
  });
  await writeFile(join(dir!, 'many.torrent'), torrent);
}
