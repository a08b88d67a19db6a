/**
 * Making a v1 .torrent (BEP 3, with BEP 12 tiers and BEP 19 web seeds) from a file or a folder.
 *
 * DECISIONS (each matches mktorrent, so both tools give the same info-hash for the same folder):
 *  - File order: the relative paths joined with "/" and compared as UTF-8 bytes (strcmp), which
 *    is what mktorrent and transmission-create 3.x do. So "a-c/x" comes before "a/b" ('-' < '/').
 *  - Hidden files (names starting with "."): INCLUDED, like mktorrent and libtorrent. The user
 *    asked for this folder; silently dropping data is worse than sharing a stray ".DS_Store".
 *    (transmission-create skips them, so its torrents of such folders differ.)
 *  - Symbolic links: a link to a regular file whose real path lies inside the input folder is
 *    included under the link's name, with the target's content (as mktorrent does). Links that
 *    point outside the folder (they could leak unrelated private files), broken links and links
 *    to folders (their content is already shared under its real path; skipping them also rules
 *    out loops) are skipped and reported in `skipped`. Other special files are skipped too.
 *    The input itself may be a link: the user named it explicitly.
 *  - Empty files are included with length 0. A torrent with no data at all is refused, since
 *    no client (our parser included) accepts one.
 *  - Every name must pass assertSafeComponent, and must be valid UTF-8: no empty or relative
 *    components, separators or control characters. The Windows-only rules (device names such
 *    as `aux.c`, trailing dots and spaces, drive letters) apply only when creating on Windows:
 *    elsewhere such files are real (the Linux sources hold `aux.c`), and clients on Windows
 *    rewrite those names when they download.
 *  - Trackers: each inner array is one tier (BEP 12). `announce` is the first URL;
 *    `announce-list` is written only when there is more than one URL, as mktorrent does.
 *  - The info dictionary holds only name, piece length, pieces, length | files[{length, path}]
 *    and `private: 1` when private: exactly mktorrent's keys, nothing else.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Encodable } from '../bencode/index.js';
import { encode } from '../bencode/index.js';
import { LodestoneError, MetainfoError } from '../errors.js';
import { MAX_PIECE_LENGTH, MAX_TOTAL_LENGTH, MIN_PIECE_LENGTH } from '../metainfo/info-dictionary.js';
import { normalizeTiers, parseTorrent } from '../metainfo/parse-torrent.js';
import { assertSafeComponent, type ComponentRules, printableName } from '../metainfo/path-safety.js';

/** The Windows-only name rules apply only where the files are made on Windows. */
export const NAME_RULES: ComponentRules = { windows: process.platform === 'win32' };

import { buildTorrentFile } from '../metainfo/torrent-file.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { HashPool } from '../storage/hasher.js';
import { CLIENT_NAME } from '../version.js';
import { hashPieces, ioError, type SourceFile, throwIfAborted } from './create-hashing.js';

/** Options of {@link createTorrent}. */
export interface CreateTorrentOptions {
  /** Announce tiers (BEP 12): each inner array is one tier, tried in order. */
  trackers?: string[][];
  /** BEP 19 web seed URLs (`url-list`). */
  webSeeds?: string[];
  /** Sets `info.private = 1` (BEP 27): peers only from the trackers. @default false */
  private?: boolean;
  /** A power of two from 16 KiB to 256 MiB. @default autoPieceLength(total size) */
  pieceLength?: number;
  /** Torrent name (file or top folder name when downloaded). @default the input's base name */
  name?: string;
  /** Free-text `comment`. @default none */
  comment?: string;
  /** `created by`. @default `Lodestone <version>` */
  createdBy?: string;
  /** `false` leaves the date out (reproducible output). @default new Date() */
  creationDate?: Date | false;
  /** Hash on this pool; otherwise a private pool is made and destroyed. */
  hashPool?: HashPool;
  /** Called after each piece is hashed; `hashedBytes` only grows and ends at `totalBytes`. */
  onProgress?: (hashedBytes: number, totalBytes: number) => void;
  /** Aborts the hashing; the promise rejects with `LODESTONE_ERR_ABORTED`. */
  signal?: AbortSignal;
}

/** Something in the input folder that was deliberately left out. */
export interface SkippedEntry {
  /** Path relative to the input folder, with "/". */
  path: string;
  /** Why, in words (e.g. a link pointing outside the folder). */
  reason: string;
}

/** What {@link createTorrent} resolves with. */
export interface CreatedTorrent {
  /** The bencoded .torrent file. */
  torrent: Buffer;
  /** `parseTorrent(torrent)`, so the caller has the info-hash. */
  meta: TorrentMetadata;
  /** Entries of the input folder left out, with the reason (empty when nothing was). */
  skipped: SkippedEntry[];
}

export const DEFAULT_CREATED_BY = CLIENT_NAME;
/** Auto piece length aims at no more than this many pieces (a 40 KiB piece list, like libtorrent). */
const AUTO_TARGET_PIECES = 2048;
/** Auto piece length stops here: larger pieces waste too much on a single bad block. */
const AUTO_MAX_PIECE_LENGTH = 16 * 1024 * 1024;
const TRACKER_SCHEMES = new Set(['http:', 'https:', 'udp:', 'ws:', 'wss:']);
const WEB_SEED_SCHEMES = new Set(['http:', 'https:', 'ftp:']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The piece length used when none is given: the smallest power of two from 16 KiB
 * that keeps the piece count at or below 2048 (so 1025–2048 pieces), capped at 16 MiB.
 * E.g. 1 MiB → 16 KiB, 100 MiB → 64 KiB, 1 GiB → 512 KiB, 4 GiB → 2 MiB, 1 TiB → 16 MiB.
 */
export function autoPieceLength(totalLength: number): number {
  let pieceLength = MIN_PIECE_LENGTH;
  while (pieceLength < AUTO_MAX_PIECE_LENGTH && totalLength > pieceLength * AUTO_TARGET_PIECES) {
    pieceLength *= 2;
  }
  return pieceLength;
}

/** Throws LODESTONE_ERR_USAGE unless `pieceLength` is a power of two from 16 KiB to 256 MiB. */
export function assertValidPieceLength(pieceLength: number): void {
  const inRange =
    Number.isInteger(pieceLength) && pieceLength >= MIN_PIECE_LENGTH && pieceLength <= MAX_PIECE_LENGTH;
  // Range first: the bitwise power-of-two test only works on 32-bit values.
  if (!inRange || (pieceLength & (pieceLength - 1)) !== 0) {
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      `piece length must be a power of two from 16 KiB to 256 MiB (got ${pieceLength})`,
    );
  }
}

function assertUrls(urls: readonly string[], schemes: ReadonlySet<string>, what: string): void {
  for (const url of urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new LodestoneError('LODESTONE_ERR_USAGE', `invalid ${what} URL "${printableName(url)}"`);
    }
    if (!schemes.has(protocol)) {
      throw new LodestoneError(
        'LODESTONE_ERR_USAGE',
        `unsupported ${what} URL "${printableName(url)}" (use ${[...schemes].map((s) => s.slice(0, -1)).join(', ')})`,
      );
    }
  }
}

/** Whether `target` is `root` or lies below it. */
function isWithin(root: string, target: string): boolean {
  const inside = relative(root, target);
  return inside === '' || (inside !== '..' && !inside.startsWith(`..${sep}`) && !isAbsolute(inside));
}

/** Walks a folder into `files` (unsorted), following the symlink rules in the header. */
async function walkFolder(
  root: string,
  realRoot: string,
  components: string[],
  files: SourceFile[],
  skipped: SkippedEntry[],
  signal: AbortSignal | undefined,
): Promise<void> {
  throwIfAborted(signal);
  const folder = join(root, ...components);
  let names: Buffer[];
  try {
    names = await readdir(folder, { encoding: 'buffer' });
  } catch (error) {
    throw ioError('read folder', folder, error);
  }
  for (const rawName of names) {
    let name: string;
    try {
      name = utf8.decode(rawName);
    } catch {
      const shown = printableName([...components, rawName.toString('latin1')].join('/'));
      throw new MetainfoError(`file name "${shown}" is not valid UTF-8`, 'LODESTONE_ERR_UNSAFE_PATH');
    }
    const path = [...components, name];
    const shown = path.join('/');
    const absolutePath = join(root, ...path);
    let entry = await lstat(absolutePath).catch((error: unknown) => {
      throw ioError('read', absolutePath, error);
    });
    if (entry.isSymbolicLink()) {
      const target = await realpath(absolutePath).catch(() => undefined);
      if (target === undefined) {
        skipped.push({ path: shown, reason: 'broken symbolic link' });
        continue;
      }
      if (!isWithin(realRoot, target)) {
        skipped.push({ path: shown, reason: 'symbolic link to outside the folder' });
        continue;
      }
      entry = await stat(absolutePath);
      if (entry.isDirectory()) {
        skipped.push({ path: shown, reason: 'symbolic link to a folder' });
        continue;
      }
    }
    if (entry.isDirectory()) {
      await walkFolder(root, realRoot, path, files, skipped, signal);
    } else if (entry.isFile()) {
      for (const component of path) assertSafeComponent(component, `"${printableName(shown)}"`, NAME_RULES);
      files.push({ absolutePath, path, length: entry.size });
    } else {
      skipped.push({ path: shown, reason: 'not a regular file' });
    }
  }
}

/** Compares like strcmp on the UTF-8 bytes of the "/"-joined path (mktorrent's order). */
function sortByPath(files: SourceFile[]): SourceFile[] {
  const keyed = files.map((file) => ({ file, key: Buffer.from(file.path.join('/'), 'utf8') }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map(({ file }) => file);
}

interface ScannedInput {
  name: string;
  multiFile: boolean;
  files: SourceFile[];
  skipped: SkippedEntry[];
}

async function scanInput(input: string, options: CreateTorrentOptions): Promise<ScannedInput> {
  const absolute = resolve(input);
  const info = await stat(absolute).catch((error: unknown) => {
    throw ioError('read', input, error);
  });
  const name = options.name ?? basename(absolute);
  assertSafeComponent(name, 'the torrent name', NAME_RULES);
  if (info.isFile()) {
    const files = [{ absolutePath: absolute, path: [], length: info.size }];
    return { name, multiFile: false, files, skipped: [] };
  }
  if (!info.isDirectory()) {
    throw new LodestoneError('LODESTONE_ERR_USAGE', `${input} is neither a file nor a folder`);
  }
  const files: SourceFile[] = [];
  const skipped: SkippedEntry[] = [];
  await walkFolder(absolute, await realpath(absolute), [], files, skipped, options.signal);
  return { name, multiFile: true, files: sortByPath(files), skipped };
}

/**
 * Makes a .torrent of a file or folder. Throws LodestoneError: LODESTONE_ERR_USAGE for bad
 * options or an input without data, LODESTONE_ERR_IO for unreadable input,
 * LODESTONE_ERR_UNSAFE_PATH for a name we would refuse to download, LODESTONE_ERR_ABORTED.
 */
export async function createTorrent(
  input: string,
  options: CreateTorrentOptions = {},
): Promise<CreatedTorrent> {
  if (options.pieceLength !== undefined) assertValidPieceLength(options.pieceLength);
  const tiers = normalizeTiers(options.trackers ?? []);
  assertUrls(tiers.flat(), TRACKER_SCHEMES, 'tracker');
  const webSeeds = normalizeTiers([options.webSeeds ?? []]).flat();
  assertUrls(webSeeds, WEB_SEED_SCHEMES, 'web seed');
  throwIfAborted(options.signal);

  const scanned = await scanInput(input, options);
  const totalLength = scanned.files.reduce((sum, file) => sum + file.length, 0);
  if (totalLength === 0) {
    throw new LodestoneError('LODESTONE_ERR_USAGE', `nothing to share: ${input} holds no data`);
  }
  if (totalLength > MAX_TOTAL_LENGTH) {
    throw new LodestoneError('LODESTONE_ERR_USAGE', `${input} is larger than ${MAX_TOTAL_LENGTH} bytes`);
  }
  const pieceLength = options.pieceLength ?? autoPieceLength(totalLength);

  const pool = options.hashPool ?? new HashPool();
  let pieces: Buffer;
  try {
    pieces = await hashPieces({
      files: scanned.files,
      pieceLength,
      totalLength,
      pool,
      onProgress: options.onProgress,
      signal: options.signal,
    });
  } finally {
    if (options.hashPool === undefined) await pool.destroy();
  }

  const info: Record<string, Encodable | undefined> = {
    name: scanned.name,
    'piece length': pieceLength,
    pieces,
    length: scanned.multiFile ? undefined : totalLength,
    files: scanned.multiFile
      ? scanned.files.map((file) => ({ length: file.length, path: file.path }))
      : undefined,
    private: options.private ? 1 : undefined,
  };
  const creationDate = options.creationDate ?? new Date();
  const torrent = buildTorrentFile(encode(info), {
    announceTiers: tiers,
    webSeeds,
    createdBy: options.createdBy ?? DEFAULT_CREATED_BY,
    ...(creationDate === false ? {} : { creationDate }),
    ...(options.comment === undefined ? {} : { comment: options.comment }),
  });
  return { torrent, meta: parseTorrent(torrent), skipped: scanned.skipped };
}
