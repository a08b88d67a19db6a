/**
 * Content of the many-files row (issue 15): `count` small files of 1–5 KiB
 * (3 KiB on average, sizes spread so that pieces span files unevenly) in
 * folders of 1,000, plus four 8 MiB files, all deterministic (AES-128-CTR
 * of zeros under a fixed key: the same bytes on every run, incompressible).
 * 100,000 files make about 325 MiB. Written synchronously, one call per file,
 * with each file's SHA-1 for the verification of every download.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExpectedFile } from './measure.js';
import { MiB } from './measure.js';

/** Files per folder: 100,000 files in one folder is unlike real torrents and slow on some file systems. */
export const FILES_PER_FOLDER = 1000;
export const BIG_FILES = 4;
export const BIG_FILE_SIZE = 8 * MiB;

/** Size of small file `i`: 1024 + (i × 2654435761 mod 4097) bytes, 1–5 KiB, mean about 3 KiB. */
export function smallFileSize(i: number): number {
  return 1024 + ((i * 2654435761) % 4097);
}

/** Relative path of small file `i` of `count`, e.g. 'd012/f012345.bin'. */
export function smallFilePath(i: number, count: number): string {
  const width = String(Math.max(0, count - 1)).length;
  const folders = Math.ceil(count / FILES_PER_FOLDER);
  const folderWidth = String(Math.max(0, folders - 1)).length;
  const folder = String(Math.floor(i / FILES_PER_FOLDER)).padStart(folderWidth, '0');
  return `d${folder}/f${String(i).padStart(width, '0')}.bin`;
}

/** Total bytes of the content for `count` small files. */
export function manyFilesTotalSize(count: number): number {
  let total = BIG_FILES * BIG_FILE_SIZE;
  for (let i = 0; i < count; i++) total += smallFileSize(i);
  return total;
}

/** A deterministic stream of incompressible bytes. */
class ByteSource {
  readonly #cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));

  next(length: number): Buffer {
    return this.#cipher.update(Buffer.alloc(length));
  }
}

export interface ManyFilesContent {
  /** The torrent's folder (named `name`); its parent is what seeders are given. */
  folder: string;
  name: string;
  /** Paths as they appear under a download folder: `${name}/d000/f00000.bin`. */
  expected: ExpectedFile[];
  totalSize: number;
}

/** Writes the content under `parent/name` and returns what each download must contain. */
export function writeManyFilesContent(parent: string, name: string, count: number): ManyFilesContent {
  const folder = join(parent, name);
  const source = new ByteSource();
  const expected: ExpectedFile[] = [];
  const made = new Set<string>();
  const write = (relative: string, size: number) => {
    const dir = join(folder, relative.slice(0, relative.lastIndexOf('/')));
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      made.add(dir);
    }
    const bytes = source.next(size);
    writeFileSync(join(folder, relative), bytes);
    expected.push({
      path: `${name}/${relative}`,
      size,
      sha1: createHash('sha1').update(bytes).digest('hex'),
    });
  };
  for (let i = 0; i < count; i++) write(smallFilePath(i, count), smallFileSize(i));
  for (let i = 0; i < BIG_FILES; i++) write(`big/big-${i + 1}.bin`, BIG_FILE_SIZE);
  return { folder, name, expected, totalSize: expected.reduce((sum, file) => sum + file.size, 0) };
}
