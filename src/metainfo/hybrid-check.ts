/**
 * BEP 52 hybrid torrents: the info dictionary carries a v1 file list (`length` or `files`,
 * with `pieces`) and a v2 `file tree`. Lodestone downloads the v1 half only, so a hybrid
 * whose halves describe different files would be labelled "hybrid" while a v2 client sees
 * other content. This walks the v2 tree (bounded) and refuses a hybrid unless both halves
 * list the same files, in the same order, with the same lengths and the same placement.
 *
 * The rule follows libtorrent's (`files_compatible` in file_storage.cpp): the v2 layout
 * puts every file on a piece boundary (a pad after each file), and each non-empty, non-pad
 * file must have the same path, length and offset in both halves. Empty files must be in
 * the same places but their names are not compared (libtorrent ignores them too); the v1
 * list may or may not pad the last file. Unlike libtorrent, the number of v1 padding files
 * is not compared, only the offsets they produce. Paths are compared as raw bytes, before
 * any sanitising. The v2 hashes (`pieces root`, `piece layers`) are checked for shape only.
 */
import { type BencodeDict, type BencodeValue, bytesToText, isDict, listItems } from '../bencode/index.js';
import { MetainfoError } from '../errors.js';
import { MAX_TOTAL_LENGTH } from './info-dictionary.js';

/** Deepest folder nesting we walk in a v2 file tree (the decoder's own limit is 64 levels in all). */
export const MAX_FILE_TREE_DEPTH = 62;
const PIECES_ROOT_LENGTH = 32;
const CHAR_P = 0x70;
const CHAR_L = 0x6c;

interface LayoutFile {
  /** Raw path components, starting with the torrent name for a multi-file torrent. */
  path: Buffer[];
  length: number;
  offset: number;
}

function showPath(path: readonly Buffer[]): string {
  const text = path.map((component) => bytesToText(component)).join('/');
  return `'${text.replace(/[^\x20-\x7e\u00a0-\uffff]/g, '?').slice(0, 200)}'`;
}

function disagree(detail: string): MetainfoError {
  return new MetainfoError(`hybrid torrent's v1 and v2 file lists disagree: ${detail}`);
}

/** A malformed v2 file tree: the entry's path (when there is one) and what is wrong with it. */
function badTree(path: readonly Buffer[] | undefined, problem: string): MetainfoError {
  const where = path === undefined ? '' : ` entry ${showPath(path)}:`;
  return new MetainfoError(`'info.file tree'${where} ${problem}`);
}

function bytesOf(value: BencodeValue | undefined): Buffer | undefined {
  return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.length) : undefined;
}

/** The v1 files as the v1 half places them, padding files left out (their lengths move the offsets). */
function v1Layout(info: BencodeDict): {
  files: LayoutFile[];
  total: number;
  name: Buffer;
  multiFile: boolean;
} {
  const name = bytesOf(info.get('name.utf-8')) ?? bytesOf(info.get('name')) ?? Buffer.alloc(0);
  const length = info.get('length');
  if (typeof length === 'number') {
    return { files: [{ path: [name], length, offset: 0 }], total: length, name, multiFile: false };
  }
  const files: LayoutFile[] = [];
  let offset = 0;
  const entries = info.get('files');
  for (const entry of Array.isArray(entries) ? listItems(entries) : []) {
    // readFiles has already refused a malformed v1 list; this only has to stay safe.
    if (!isDict(entry)) continue;
    const entryLength = entry.get('length');
    const size = typeof entryLength === 'number' ? entryLength : 0;
    const attr = entry.get('attr');
    if (!(attr instanceof Uint8Array && attr.includes(CHAR_P))) {
      const utf8Path = entry.get('path.utf-8');
      const raw =
        Array.isArray(utf8Path) && utf8Path.every((c) => c instanceof Uint8Array)
          ? utf8Path
          : entry.get('path');
      const components = Array.isArray(raw) ? raw.map((c) => bytesOf(c) ?? Buffer.alloc(0)) : [];
      files.push({ path: [name, ...components], length: size, offset });
    }
    offset += size;
  }
  return { files, total: offset, name, multiFile: true };
}

/** A v2 file entry (the dictionary under the empty key): its length, checked for shape. */
function readV2File(spec: BencodeValue, path: readonly Buffer[]): number {
  if (!isDict(spec)) throw badTree(path, 'must be a dictionary');
  const attr = spec.get('attr');
  if (attr !== undefined && !(attr instanceof Uint8Array)) throw badTree(path, "'attr' must be a string");
  if (attr?.includes(CHAR_P)) throw badTree(path, 'is a padding file, which a v2 file tree must not hold');
  // BEP 47 symlinks take no space in the payload, whatever `length` says.
  if (attr?.includes(CHAR_L)) return 0;
  const length = spec.get('length');
  if (length === undefined) throw badTree(path, "'length' is missing");
  if (typeof length === 'bigint') throw badTree(path, `'length' is too large (${length} is beyond 2^53)`);
  if (typeof length !== 'number' || length < 0)
    throw badTree(path, "'length' must be a non-negative integer");
  if (length > MAX_TOTAL_LENGTH)
    throw badTree(path, `'length' exceeds the limit of ${MAX_TOTAL_LENGTH} bytes`);
  if (length > 0) {
    const root = spec.get('pieces root');
    if (!(root instanceof Uint8Array) || root.length !== PIECES_ROOT_LENGTH) {
      throw badTree(path, `'pieces root' must be a ${PIECES_ROOT_LENGTH}-byte string`);
    }
  }
  return length;
}

interface Frame {
  entries: Iterator<[string, BencodeValue]>;
  path: Buffer[];
}

/**
 * The v2 files in tree order, placed as BEP 52 places them (each file starts a piece).
 * Stops with a mismatch once it holds more files than `limit`, so hostile trees cost at
 * most a walk of the decoded dictionary.
 */
function v2Layout(
  tree: BencodeDict,
  pieceLength: number,
  rootPath: Buffer[],
  singleFile: boolean,
  limit: number,
): { files: LayoutFile[]; total: number } {
  const files: LayoutFile[] = [];
  let offset = 0;
  const stack: Frame[] = [{ entries: tree.entries(), path: rootPath }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const next = frame.entries.next();
    if (next.done) {
      stack.pop();
      continue;
    }
    const [key, node] = next.value;
    const component = Buffer.from(key, 'latin1');
    const path = singleFile ? [component] : [...frame.path, component];
    if (key === '') throw badTree(path, 'has an empty name');
    if (!isDict(node)) throw badTree(path, 'must be a dictionary');
    const leaf = node.size === 1 && node.has('');
    if (!leaf) {
      if (stack.length >= MAX_FILE_TREE_DEPTH)
        throw badTree(path, `nests deeper than ${MAX_FILE_TREE_DEPTH} folders`);
      if (node.size > 0) stack.push({ entries: node.entries(), path });
      continue;
    }
    const length = readV2File(node.get('')!, path);
    if (files.length === limit) {
      throw disagree(
        `the v2 file tree lists more than the ${limit} files of the v1 list (first extra: ${showPath(path)})`,
      );
    }
    files.push({ path, length, offset });
    offset += length;
    const remainder = offset % pieceLength;
    if (remainder !== 0) offset += pieceLength - remainder;
  }
  return { files, total: offset };
}

function samePath(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a.length === b.length && a.every((component, i) => component.equals(b[i]!));
}

/**
 * Refuses (MetainfoError, LODESTONE_ERR_METAINFO) a hybrid info dictionary whose v2 `file tree`
 * is missing, malformed, or describes other files than the v1 list, naming the first difference.
 * Call it after the v1 fields have been validated; `pieceLength` is the validated piece length.
 */
export function assertHybridHalvesAgree(info: BencodeDict, pieceLength: number): void {
  const tree = info.get('file tree');
  if (tree === undefined) throw new MetainfoError("hybrid torrent (meta version 2) has no 'info.file tree'");
  if (!isDict(tree)) throw badTree(undefined, 'must be a dictionary');
  const v1 = v1Layout(info);
  const onlyEntry = tree.size === 1 ? [...tree.values()][0] : undefined;
  const singleFile = !v1.multiFile && isDict(onlyEntry) && onlyEntry.size === 1 && onlyEntry.has('');
  const v2 = v2Layout(tree, pieceLength, [v1.name], singleFile, v1.files.length);
  if (v2.files.length < v1.files.length) {
    const missing = v1.files[v2.files.length]!;
    throw disagree(
      `the v2 file tree lists ${v2.files.length} files, the v1 list ${v1.files.length} (first missing: ${showPath(missing.path)})`,
    );
  }
  for (let i = 0; i < v1.files.length; i++) {
    const a = v1.files[i]!;
    const b = v2.files[i]!;
    const bothEmpty = a.length === 0 && b.length === 0;
    if (a.length !== b.length || (!bothEmpty && !samePath(a.path, b.path))) {
      throw disagree(
        `file ${i + 1} is ${showPath(a.path)} (${a.length} bytes) in v1 but ${showPath(b.path)} (${b.length} bytes) in v2`,
      );
    }
    if (!bothEmpty && a.offset !== b.offset) {
      throw disagree(
        `file ${i + 1} ${showPath(a.path)} starts at byte ${a.offset} in v1 but at byte ${b.offset} in v2 ` +
          '(v2 starts every file on a piece boundary; the v1 list lacks the padding files for that)',
      );
    }
  }
  // The v1 list may end with the last file's padding (libtorrent ≥ 2.0.8) or without it (older).
  const lastData = v1.files.reduce((end, file) => (file.length > 0 ? file.offset + file.length : end), 0);
  if (v1.total !== v2.total && v1.total !== lastData) {
    throw disagree(`the v1 files total ${v1.total} bytes, the v2 layout ${v2.total}`);
  }
}
