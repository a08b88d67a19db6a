/** Builds torrents in tests with `encode`, so hostile and odd shapes need no binary fixtures. */
import { createHash } from 'node:crypto';
import type { Encodable } from '../../../src/bencode/index.js';
import { encode } from '../../../src/bencode/index.js';

export const PIECE_16K = 16 * 1024;
export const TRACKER = 'http://127.0.0.1:6969/announce';

export interface FileSpec {
  path: string[];
  length: number;
  attr?: string;
}

/** Deterministic stand-in piece hashes: the right count, distinct per piece. */
export function fakePieceHashes(totalLength: number, pieceLength: number): Buffer {
  const count = Math.ceil(totalLength / pieceLength);
  const out = Buffer.alloc(count * 20);
  for (let i = 0; i < count; i++) out.writeUInt32BE(i, i * 20);
  return out;
}

export function singleFileInfo(
  length = 40_000,
  extra: Record<string, Encodable | undefined> = {},
): Record<string, Encodable | undefined> {
  return {
    name: 'file.bin',
    'piece length': PIECE_16K,
    // Only computed when the test does not supply its own (huge declared lengths).
    pieces: 'pieces' in extra ? undefined : fakePieceHashes(length, PIECE_16K),
    length,
    ...extra,
  };
}

export function multiFileInfo(
  files: FileSpec[],
  extra: Record<string, Encodable | undefined> = {},
): Record<string, Encodable | undefined> {
  const total = files.reduce((sum, file) => sum + file.length, 0);
  return {
    name: 'folder',
    'piece length': PIECE_16K,
    pieces: 'pieces' in extra ? undefined : fakePieceHashes(total, PIECE_16K),
    files: files.map((file) => ({ length: file.length, path: file.path, attr: file.attr })),
    ...extra,
  };
}

export function torrentBytes(
  info: Encodable,
  outer: Record<string, Encodable | undefined> = { announce: TRACKER },
): Buffer {
  return encode({ ...outer, info });
}

export function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}
