/**
 * Validation of the `info` dictionary (BEP 3, with BEP 47 padding files,
 * symlinks and attributes, and the BEP 52 hybrid check). Every field that decides
 * where bytes go on disk is read strictly: a missing or wrong-typed field is a
 * MetainfoError naming it. File names are the exception by design: an unsafe
 * name is rewritten (file-names.ts), never a reason to refuse the torrent.
 */
import {
  type BencodeDict,
  type BencodeValue,
  bytesToText,
  isDict,
  listItems,
  listLength,
} from '../bencode/index.js';
import { LodestoneError, MetainfoError } from '../errors.js';
import {
  displayName,
  EMPTY_NAME,
  type NameRules,
  resolveDuplicatePaths,
  sanitizeComponent,
  sanitizePath,
  sanitizeSymlinkTarget,
} from './file-names.js';
import { assertHybridHalvesAgree } from './hybrid-check.js';
import type { TorrentFile, TorrentMetadata } from './types.js';

export const MIN_PIECE_LENGTH = 16 * 1024;
export const MAX_PIECE_LENGTH = 256 * 1024 * 1024;
/** 1 PiB: far beyond any real torrent, and sums of such lengths stay exact doubles. */
export const MAX_TOTAL_LENGTH = 2 ** 50;
const HASH_LENGTH = 20;

/** The part of TorrentMetadata that comes from the info dictionary alone. */
export type InfoFields = Pick<
  TorrentMetadata,
  | 'name'
  | 'pieceLength'
  | 'pieceCount'
  | 'lastPieceLength'
  | 'pieceHashes'
  | 'files'
  | 'totalLength'
  | 'multiFile'
  | 'private'
  | 'version'
>;

function describeType(value: BencodeValue): string {
  if (typeof value === 'number' || typeof value === 'bigint') return 'an integer';
  if (value instanceof Uint8Array) return 'a string';
  if (Array.isArray(value)) return 'a list';
  return 'a dictionary';
}

function missing(field: string): MetainfoError {
  return new MetainfoError(`'${field}' is missing`);
}

function wrongType(field: string, expected: string, value: BencodeValue): MetainfoError {
  // The decoder keeps integers beyond 2^53 as bigints; no integer field we read can use one.
  if (typeof value === 'bigint' && expected === 'an integer')
    return new MetainfoError(`'${field}' is too large (${value} is beyond 2^53)`);
  return new MetainfoError(`'${field}' must be ${expected}, not ${describeType(value)}`);
}

function requireInteger(dict: BencodeDict, key: string, field: string): number {
  const value = dict.get(key);
  if (value === undefined) throw missing(field);
  if (typeof value !== 'number') throw wrongType(field, 'an integer', value);
  return value;
}

function requireBytes(dict: BencodeDict, key: string, field: string): Uint8Array {
  const value = dict.get(key);
  if (value === undefined) throw missing(field);
  if (!(value instanceof Uint8Array)) throw wrongType(field, 'a string', value);
  return value;
}

function requireList(dict: BencodeDict, key: string, field: string): BencodeValue[] {
  const value = dict.get(key);
  if (value === undefined) throw missing(field);
  if (!Array.isArray(value)) throw wrongType(field, 'a list', value);
  return value;
}

/** A file length: a non-negative integer no larger than the total we accept. */
function requireLength(dict: BencodeDict, key: string, field: string): number {
  const length = requireInteger(dict, key, field);
  if (length < 0) throw new MetainfoError(`'${field}' must not be negative (got ${length})`);
  if (length > MAX_TOTAL_LENGTH) {
    throw new MetainfoError(`'${field}' of ${length} bytes exceeds the limit of ${MAX_TOTAL_LENGTH} bytes`);
  }
  return length;
}

/** BEP 3 `name`, preferring `name.utf-8` when a torrent supplies it as a string; sanitised, never empty. */
function readName(info: BencodeDict, rules: NameRules): { name: string; original: string } {
  const utf8Name = info.get('name.utf-8');
  const raw = utf8Name instanceof Uint8Array ? utf8Name : requireBytes(info, 'name', 'info.name');
  return { name: sanitizeComponent(raw, rules) || EMPTY_NAME, original: displayName(raw) };
}

function readPieceLength(info: BencodeDict): number {
  const pieceLength = requireInteger(info, 'piece length', 'info.piece length');
  // Range first: the bitwise power-of-two test only works on 32-bit values.
  const inRange = pieceLength >= MIN_PIECE_LENGTH && pieceLength <= MAX_PIECE_LENGTH;
  if (!inRange || (pieceLength & (pieceLength - 1)) !== 0) {
    throw new MetainfoError(
      `'info.piece length' must be a power of two from 16 KiB to 256 MiB (got ${pieceLength})`,
    );
  }
  return pieceLength;
}

/** BEP 52: a hybrid torrent carries a complete v1 part, which is what we use. */
function readVersion(info: BencodeDict): 'v1' | 'hybrid' {
  const metaVersion = info.get('meta version');
  if (metaVersion === undefined) return 'v1';
  if (typeof metaVersion !== 'number') throw wrongType('info.meta version', 'an integer', metaVersion);
  if (metaVersion === 1) return 'v1';
  if (metaVersion === 2) {
    if (info.has('pieces')) return 'hybrid';
    throw new LodestoneError('LODESTONE_ERR_UNSUPPORTED', 'v2-only torrents are not supported yet');
  }
  throw new LodestoneError(
    'LODESTONE_ERR_UNSUPPORTED',
    `torrent meta version ${metaVersion} is not supported`,
  );
}

function readPrivate(info: BencodeDict): boolean {
  const value = info.get('private');
  if (value === undefined) return false;
  // A wrong type is an error rather than "public": guessing wrong would leak a private torrent to DHT/PEX.
  if (typeof value !== 'number') throw wrongType('info.private', 'an integer', value);
  return value !== 0;
}

/** A list of strings, or undefined when `value` is anything else. */
function stringList(value: BencodeValue | undefined): Uint8Array[] | undefined {
  if (!Array.isArray(value) || !value.every((c) => c instanceof Uint8Array)) return undefined;
  return value as Uint8Array[];
}

/** `path.utf-8` when it is a well-formed list of strings, otherwise `path`; undefined when both are missing. */
function readRawPath(entry: BencodeDict, field: string): Uint8Array[] | undefined {
  const utf8Path = stringList(entry.get('path.utf-8'));
  if (utf8Path !== undefined && utf8Path.length > 0) return utf8Path;
  const pathField = `${field}.path`;
  const components = entry.get('path');
  if (components === undefined) return undefined;
  if (!Array.isArray(components)) throw wrongType(pathField, 'a list', components);
  if (components.length === 0) throw new MetainfoError(`'${pathField}' must not be empty`);
  components.forEach((component, i) => {
    if (!(component instanceof Uint8Array)) throw wrongType(`${pathField}[${i}]`, 'a string', component);
  });
  return components as Uint8Array[];
}

/** BEP 47 `attr`: p padding, l symlink, x executable, h hidden (nothing to do on Unix). */
function readAttr(entry: BencodeDict, field: string): string {
  const attr = entry.get('attr');
  if (attr === undefined) return '';
  if (!(attr instanceof Uint8Array)) throw wrongType(`${field}.attr`, 'a string', attr);
  return bytesToText(attr);
}

/** BitComet marks padding by name only (no `attr`); libtorrent treats these as padding too. */
const BITCOMET_PADDING = '_____padding_file_';

function sameComponents(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

/**
 * One string per distinct folder name, so 100,000 files in a few hundred folders
 * do not each keep their own copy of the folder names.
 */
type Interner = Map<string, string>;

function interned(strings: Interner, text: string): string {
  const known = strings.get(text);
  if (known !== undefined) return known;
  strings.set(text, text);
  return text;
}

function readFileEntry(
  entry: BencodeValue,
  field: string,
  torrent: { name: string; original: string },
  rules: NameRules,
  offset: number,
  strings: Interner,
): TorrentFile {
  if (!isDict(entry)) throw wrongType(field, 'a dictionary', entry);
  const attr = readAttr(entry, field);
  // BEP 47: a symlink needs its `symlink path`; without one it is an ordinary file (as in libtorrent).
  const symlinkPath = attr.includes('l') ? stringList(entry.get('symlink path')) : undefined;
  // A symlink holds no bytes of the piece space, whatever `length` says (or if it is missing).
  const length = symlinkPath ? 0 : requireLength(entry, 'length', `${field}.length`);
  const rawPath = readRawPath(entry, field);
  const lastComponent = rawPath === undefined ? '' : displayName(rawPath[rawPath.length - 1]!);
  const padding = attr.includes('p') || lastComponent.startsWith(BITCOMET_PADDING);
  if (rawPath === undefined) {
    if (!padding) throw missing(`${field}.path`);
    // A padding file needs no path (BEP 47 hybrids); it is never written, so any name will do.
    return { path: [torrent.name, '.pad', String(length)], length, offset, padding };
  }
  const parts = sanitizePath(rawPath, rules);
  // An array of the exact size (no spare capacity), folder names shared between files.
  const path = new Array<string>(parts.length + 1);
  path[0] = torrent.name;
  for (let k = 0; k < parts.length; k++) {
    path[k + 1] = k === parts.length - 1 ? parts[k]! : interned(strings, parts[k]!);
  }
  // Always the same shape (optional fields added after), so V8 keeps one compact layout.
  const file: TorrentFile = { path, length, offset, padding };
  const originalPath = [torrent.original, ...rawPath.map(displayName)];
  if (!padding && !sameComponents(file.path, originalPath)) file.originalPath = originalPath;
  if (symlinkPath && !padding) {
    const target = sanitizeSymlinkTarget(symlinkPath, rules);
    file.symlink = {
      target: target === null ? null : [torrent.name, ...target],
      original: symlinkPath.map(displayName),
    };
  }
  if (attr.includes('x')) file.executable = true;
  return file;
}

function readFiles(
  info: BencodeDict,
  torrent: { name: string; original: string },
  rules: NameRules,
): { files: TorrentFile[]; multiFile: boolean } {
  const hasLength = info.has('length');
  const hasFiles = info.has('files');
  if (hasLength && hasFiles) throw new MetainfoError("'info' has both 'length' and 'files'");
  if (!hasLength && !hasFiles) throw new MetainfoError("'info' has neither 'length' nor 'files'");
  if (hasLength) {
    const length = requireLength(info, 'length', 'info.length');
    const file: TorrentFile = { path: [torrent.name], length, offset: 0, padding: false };
    if (torrent.name !== torrent.original) file.originalPath = [torrent.original];
    return { files: [file], multiFile: false };
  }
  const entries = requireList(info, 'files', 'info.files');
  const count = listLength(entries);
  if (count === 0) throw new MetainfoError("'info.files' must not be empty");
  const files = new Array<TorrentFile>(count);
  const strings: Interner = new Map();
  let offset = 0;
  let i = 0;
  // Entry by entry: a list the decoder deferred is decoded one entry at a time.
  for (const entry of listItems(entries)) {
    const file = readFileEntry(entry, `info.files[${i}]`, torrent, rules, offset, strings);
    files[i++] = file;
    offset += file.length;
    if (offset > MAX_TOTAL_LENGTH) {
      throw new MetainfoError(`total length exceeds the limit of ${MAX_TOTAL_LENGTH} bytes`);
    }
  }
  for (const [index, path] of resolveDuplicatePaths(files, rules)) {
    const file = files[index]!;
    file.originalPath ??= [torrent.original, ...file.path.slice(1)];
    file.path = path;
  }
  return { files, multiFile: true };
}

/**
 * Reads and validates an info dictionary. Throws MetainfoError (LODESTONE_ERR_METAINFO
 * or LODESTONE_ERR_UNSAFE_PATH) or LodestoneError LODESTONE_ERR_UNSUPPORTED for v2-only.
 */
export function readInfoFields(info: BencodeDict, rules: NameRules = {}): InfoFields {
  const version = readVersion(info);
  const torrent = readName(info, rules);
  const pieceLength = readPieceLength(info);
  const pieces = requireBytes(info, 'pieces', 'info.pieces');
  if (pieces.length % HASH_LENGTH !== 0) {
    throw new MetainfoError(`'info.pieces' length ${pieces.length} is not a multiple of ${HASH_LENGTH}`);
  }
  const { files, multiFile } = readFiles(info, torrent, rules);
  const last = files[files.length - 1]!;
  const totalLength = last.offset + last.length;
  if (totalLength === 0) throw new MetainfoError('torrent holds no data (total length is 0)');
  // pieceLength is a power of two, so this division is exact.
  const pieceCount = Math.ceil(totalLength / pieceLength);
  if (pieces.length / HASH_LENGTH !== pieceCount) {
    throw new MetainfoError(
      `'info.pieces' holds ${pieces.length / HASH_LENGTH} hashes, but ${totalLength} bytes ` +
        `in pieces of ${pieceLength} need ${pieceCount}`,
    );
  }
  if (version === 'hybrid') assertHybridHalvesAgree(info, pieceLength);
  return {
    name: torrent.name,
    pieceLength,
    pieceCount,
    lastPieceLength: totalLength - (pieceCount - 1) * pieceLength,
    pieceHashes: Buffer.from(pieces),
    files,
    totalLength,
    multiFile,
    private: readPrivate(info),
    version,
  };
}
