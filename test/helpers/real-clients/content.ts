/**
 * Test content and torrents: random files, a torrent made by the real
 * `mktorrent` (so the metainfo is not produced by our own code under test),
 * and the few facts a test needs from a torrent file.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { decode, getBytes, getDict, getInt, getList, getText, spanOf } from '../../../src/bencode/index.js';
import { RealClientError } from './common.js';

const execFileAsync = promisify(execFile);
const CHUNK = 1 << 20;

export interface ContentSpec {
  /** Paths relative to the content folder, '/'-separated. */
  files: { path: string; size: number }[];
}

export interface WrittenContent {
  dir: string;
  files: { path: string; size: number; absolutePath: string }[];
  totalSize: number;
}

/** Writes files of random bytes under `dir` (created if needed), 1 MiB at a time. */
export async function makeRandomContent(dir: string, spec: ContentSpec): Promise<WrittenContent> {
  const files: WrittenContent['files'] = [];
  for (const file of spec.files) {
    const relative = normalize(file.path);
    if (isAbsolute(relative) || relative.split(sep).includes('..')) {
      throw new RealClientError(`content path must stay inside the folder: ${file.path}`);
    }
    const absolutePath = join(dir, relative);
    await mkdir(dirname(absolutePath), { recursive: true });
    const handle = await open(absolutePath, 'w');
    try {
      for (let written = 0; written < file.size; ) {
        const chunk = randomBytes(Math.min(CHUNK, file.size - written));
        await handle.write(chunk);
        written += chunk.length;
      }
    } finally {
      await handle.close();
    }
    files.push({ path: file.path, size: file.size, absolutePath });
  }
  return { dir, files, totalSize: files.reduce((sum, file) => sum + file.size, 0) };
}

export interface MktorrentOptions {
  /** A file (single-file torrent) or a folder (multi-file torrent, named after it). */
  path: string;
  /** Tracker URLs, each its own tier (mktorrent's repeated `-a`). */
  announce: string[];
  /** Piece length 2^n bytes, 15..28. @default 18 (mktorrent's default, 256 KiB) */
  pieceLengthExp?: number;
  /** Where the .torrent goes; replaced if it exists. */
  out: string;
  private?: boolean;
}

/** Runs `mktorrent` and returns `out`. */
export async function createTorrentWithMktorrent(options: MktorrentOptions): Promise<string> {
  const args: string[] = [];
  for (const url of options.announce) args.push('-a', url);
  if (options.pieceLengthExp !== undefined) args.push('-l', String(options.pieceLengthExp));
  if (options.private === true) args.push('-p');
  args.push('-o', options.out, options.path);
  await rm(options.out, { force: true }); // mktorrent refuses to overwrite
  try {
    await execFileAsync('mktorrent', args);
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new RealClientError(`mktorrent ${args.join(' ')} failed: ${detail}`, { cause: error });
  }
  return options.out;
}

export interface TorrentFacts {
  infoHash: Uint8Array;
  infoHashHex: string;
  name: string;
  pieceLength: number;
  pieceCount: number;
  totalLength: number;
  /** First URL of every tier, then `announce` if there is no list. */
  trackers: string[];
}

/** Info-hash (SHA-1 over the exact bytes of the `info` dictionary) and sizes of a torrent file. */
export async function readTorrentFacts(torrentPath: string): Promise<TorrentFacts> {
  const bytes = new Uint8Array(await readFile(torrentPath));
  const root = decode(bytes);
  const info = root instanceof Map ? getDict(root, 'info') : undefined;
  const span = info === undefined ? undefined : spanOf(info);
  const pieces = info === undefined ? undefined : getBytes(info, 'pieces');
  const pieceLength = info === undefined ? undefined : getInt(info, 'piece length');
  if (!(root instanceof Map) || info === undefined || span === undefined || pieces === undefined) {
    throw new RealClientError(`${torrentPath} is not a torrent file`);
  }
  const infoHash = new Uint8Array(createHash('sha1').update(bytes.subarray(span.start, span.end)).digest());
  const fileList = getList(info, 'files') ?? [];
  const totalLength =
    getInt(info, 'length') ??
    fileList.reduce<number>(
      (sum, file) => sum + (file instanceof Map ? (getInt(file, 'length') ?? 0) : 0),
      0,
    );
  const trackers: string[] = [];
  for (const tier of getList(root, 'announce-list') ?? []) {
    const first = Array.isArray(tier) ? tier[0] : undefined;
    if (first instanceof Uint8Array) trackers.push(Buffer.from(first).toString('utf8'));
  }
  const announce = getText(root, 'announce');
  if (trackers.length === 0 && announce !== undefined) trackers.push(announce);
  return {
    infoHash,
    infoHashHex: Buffer.from(infoHash).toString('hex'),
    name: getText(info, 'name') ?? '',
    pieceLength: pieceLength ?? 0,
    pieceCount: pieces.length / 20,
    totalLength,
    trackers,
  };
}

/** A magnet link (BEP 9) for a torrent: hex btih, its name and trackers. */
export function magnetUri(facts: Pick<TorrentFacts, 'infoHashHex' | 'name' | 'trackers'>): string {
  const parts = [`xt=urn:btih:${facts.infoHashHex}`];
  if (facts.name !== '') parts.push(`dn=${encodeURIComponent(facts.name)}`);
  for (const tracker of facts.trackers) parts.push(`tr=${encodeURIComponent(tracker)}`);
  return `magnet:?${parts.join('&')}`;
}
