/**
 * File names in a torrent are chosen by whoever made it, so they are hostile input.
 *
 * DECISION: sanitise, do not refuse (as libtorrent and Transmission do). One odd
 * name ("aux.c" from the Linux sources, "Vol. 1.") must not cost the user the
 * whole download. Every path component is rewritten deterministically into a
 * safe one, and each file whose path changed keeps `originalPath` so the user is
 * told (`lodestone info`, a warning and a JSON event on `download`).
 *
 * Per component, on every platform:
 *  - bytes that are not valid UTF-8 become "_";
 *  - "/" and "\" (separators somewhere), C0/C1 control characters, NUL and DEL
 *    become "_";
 *  - zero-width and writing-direction characters (U+200B-U+200F, U+202A-U+202E,
 *    U+2060-U+2064, U+2066-U+2069, U+061C, U+FEFF) are removed: they make
 *    "exe.txt" display as something else;
 *  - a component longer than 240 UTF-8 bytes is cut to 240, keeping a short
 *    extension, never splitting a code point;
 *  - ".", ".." and empty components are dropped; a file path left empty is "_".
 * Only on Windows (`windows: true`, the default when process.platform is win32):
 *  - `<>:"|?*` become "_" (":" would also make "C:" a drive);
 *  - trailing dots and spaces are removed (Windows would drop them itself);
 *  - reserved device names (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$, CONOUT$,
 *    CLOCK$, with or without an extension) get a "_" prefix.
 *
 * Duplicates after sanitising (two files on one path, or a file on the path of a
 * folder) are renamed "name.1.ext", "name.2.ext"… in file-list order; folders
 * always win over files. Names are compared exactly on Linux, where "A.h" and
 * "a.h" are two files (the Linux kernel sources have such pairs, and renaming
 * them would break the content), and case-insensitively on Windows and macOS,
 * whose usual file systems would make such a pair one file and mix their data.
 * Padding files are never written, so they take no part.
 *
 * Storage still checks that every resolved path lies inside the download folder
 * (FileStorage.pathOf): sanitising is what makes torrents work, not what makes
 * them safe.
 */
import { MetainfoError } from '../errors.js';
import type { TorrentFile } from './types.js';

/** Longest path component we write, in UTF-8 bytes (libtorrent's limit; file systems allow 255). */
export const MAX_COMPONENT_BYTES = 240;
/** Longest extension (with its dot, in bytes) kept when a component is cut. */
const MAX_EXTENSION_BYTES = 16;
/** The name of a path that sanitising left empty. */
export const EMPTY_NAME = '_';

export interface NameRules {
  /** Apply the Windows-only rules. @default process.platform === 'win32' */
  windows?: boolean;
  /** Treat names differing only in case as duplicates. @default true on Windows and macOS */
  foldCase?: boolean;
}

interface ResolvedRules {
  windows: boolean;
  foldCase: boolean;
}

export function resolveRules(rules: NameRules = {}): ResolvedRules {
  const windows = rules.windows ?? process.platform === 'win32';
  return { windows, foldCase: rules.foldCase ?? (windows || process.platform === 'darwin') };
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The bytes as text, with each invalid UTF-8 sequence replaced by "_". */
export function decodeName(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return lenientUtf8.decode(bytes).replace(/\uFFFD/g, '_');
  }
}

/** The bytes as text for reporting the original name (invalid UTF-8 shows as U+FFFD). */
export function displayName(bytes: Uint8Array): string {
  return lenientUtf8.decode(bytes);
}

const REPLACED_EVERYWHERE = /[/\\\x00-\x1f\x7f-\x9f]/g;
const REPLACED_ON_WINDOWS = /[<>:"|?*]/g;
const REMOVED = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;
const RESERVED_DEVICE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)$/i;
const TRAILING_DOTS_AND_SPACES = /[. ]+$/;

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a code point. */
function cutToBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/** "stem" and ".ext" of a component; ".hidden" and "noext" have no extension. */
export function splitExtension(name: string): { stem: string; extension: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { stem: name, extension: '' };
  return { stem: name.slice(0, dot), extension: name.slice(dot) };
}

/** Cuts `name` to MAX_COMPONENT_BYTES, keeping its extension when that is short. */
export function truncateComponent(name: string): string {
  if (utf8Length(name) <= MAX_COMPONENT_BYTES) return name;
  const { stem, extension } = splitExtension(name);
  const kept = utf8Length(extension) <= MAX_EXTENSION_BYTES ? extension : '';
  const base = kept === '' ? name : stem;
  return cutToBytes(base, MAX_COMPONENT_BYTES - utf8Length(kept)) + kept;
}

/**
 * One path component made safe. Returns "" for a component to drop (".", "..",
 * empty, or nothing left after sanitising).
 */
export function sanitizeComponent(raw: Uint8Array | string, rules: NameRules = {}): string {
  const { windows } = resolveRules(rules);
  let name = typeof raw === 'string' ? raw : decodeName(raw);
  name = name.replace(REMOVED, '').replace(REPLACED_EVERYWHERE, '_');
  if (windows) {
    name = name.replace(REPLACED_ON_WINDOWS, '_');
    // Windows treats "nul.txt" and "CON .tar.gz" as the device: compare the part before the first dot.
    if (RESERVED_DEVICE_NAME.test(name.split('.', 1)[0]!.trimEnd())) name = `_${name}`;
  }
  name = truncateComponent(name);
  if (windows) name = name.replace(TRAILING_DOTS_AND_SPACES, '');
  if (name === '.' || name === '..') return '';
  return name;
}

/** A torrent name or file path made safe: components dropped as needed, never empty. */
export function sanitizePath(raw: readonly (Uint8Array | string)[], rules: NameRules = {}): string[] {
  const out: string[] = [];
  for (const component of raw) {
    const safe = sanitizeComponent(component, rules);
    if (safe !== '') out.push(safe);
  }
  return out.length > 0 ? out : [EMPTY_NAME];
}

/**
 * A BEP 47 `symlink path` (relative to the torrent's folder) as components below
 * that folder, or null when it leaves the folder or names the folder itself.
 * ".." climbs one level (BEP 47 forbids it, so only hostile torrents use it).
 */
export function sanitizeSymlinkTarget(
  raw: readonly (Uint8Array | string)[],
  rules: NameRules = {},
): string[] | null {
  const stack: string[] = [];
  for (const component of raw) {
    const text = typeof component === 'string' ? component : decodeName(component);
    if (text === '..') {
      if (stack.length === 0) return null;
      stack.pop();
      continue;
    }
    const safe = sanitizeComponent(text, rules);
    if (safe !== '') stack.push(safe);
  }
  return stack.length > 0 ? stack : null;
}

/** The part of a file entry duplicate resolution needs. */
export interface NamedEntry {
  path: readonly string[];
  padding: boolean;
}

/** Renaming gives up after this many taken candidates in one torrent (libtorrent's default limit too). */
export const MAX_RENAME_COLLISIONS = 1000;

/**
 * New paths for files that collide with an earlier file or with any folder:
 * a map from file index to its renamed path. Deterministic: depends only on
 * the list and the rules. Throws MetainfoError (LODESTONE_ERR_UNSAFE_PATH)
 * when more than MAX_RENAME_COLLISIONS candidate names were taken too, which
 * no honest torrent needs.
 */
export function resolveDuplicatePaths(
  files: readonly NamedEntry[],
  rules: NameRules = {},
): Map<number, string[]> {
  const { foldCase } = resolveRules(rules);
  const fold = (joined: string): string => (foldCase ? joined.toLowerCase() : joined);
  const key = (parts: readonly string[]): string => fold(parts.join('/'));
  // Folders first, so a file can never take the path of a folder.
  const taken = new Set<string>();
  for (const file of files) {
    if (file.padding) continue;
    let folder = '';
    for (let depth = 0; depth < file.path.length - 1; depth++) {
      folder = depth === 0 ? file.path[0]! : `${folder}/${file.path[depth]!}`;
      taken.add(fold(folder));
    }
  }
  const renamed = new Map<number, string[]>();
  /** Next counter per (folder, stem, extension), so n copies cost O(n), not O(n²). */
  const counters = new Map<string, number>();
  let collisions = 0;
  files.forEach((file, index) => {
    if (file.padding) return;
    const wanted = key(file.path);
    if (!taken.has(wanted)) {
      taken.add(wanted);
      return;
    }
    const folder = file.path.slice(0, -1);
    const last = file.path[file.path.length - 1]!;
    const split = splitExtension(last);
    // A long "extension" is part of the name: the counter goes at the end, and the stem is cut to fit.
    const short = utf8Length(split.extension) <= MAX_EXTENSION_BYTES;
    const stem = short ? split.stem : last;
    const extension = short ? split.extension : '';
    const counterKey = `${wanted}\u0000${key([stem])}\u0000${key([extension])}`;
    let counter = counters.get(counterKey) ?? 1;
    for (;;) {
      const suffix = `.${counter}${extension}`;
      const candidate = [...folder, cutToBytes(stem, MAX_COMPONENT_BYTES - utf8Length(suffix)) + suffix];
      counter++;
      if (!taken.has(key(candidate))) {
        taken.add(key(candidate));
        renamed.set(index, candidate);
        break;
      }
      // The candidate is taken too: only a torrent built to collide gets here often.
      if (++collisions > MAX_RENAME_COLLISIONS) {
        throw new MetainfoError(
          `more than ${MAX_RENAME_COLLISIONS} renamed file names collided again; the file list looks hostile`,
          'LODESTONE_ERR_UNSAFE_PATH',
        );
      }
    }
    counters.set(counterKey, counter);
  });
  return renamed;
}

/** A file whose name was changed by sanitising or duplicate renaming; paths joined with "/". */
export interface RenamedFile {
  /** The path used on disk, relative to the download folder. */
  path: string;
  /** The path as the torrent spells it (invalid UTF-8 shown as U+FFFD). */
  originalPath: string;
}

/** A BEP 47 symlink not created because its target leaves the torrent's folder. */
export interface SkippedSymlink {
  path: string;
  /** `symlink path` as the torrent spells it, joined with "/". */
  target: string;
}

/** Anything with a torrent's file list (a `TorrentMetadata`, say). */
export type FileList = { files: readonly TorrentFile[] };

/** The files whose names were changed, in file-list order (padding files never count). */
export function renamedFiles(meta: FileList): RenamedFile[] {
  return meta.files.flatMap((file) =>
    file.originalPath && !file.padding
      ? [{ path: file.path.join('/'), originalPath: file.originalPath.join('/') }]
      : [],
  );
}

/** The symlinks that will not be created, in file-list order. */
export function skippedSymlinks(meta: FileList): SkippedSymlink[] {
  return meta.files.flatMap((file) =>
    file.symlink && file.symlink.target === null
      ? [{ path: file.path.join('/'), target: file.symlink.original.join('/') }]
      : [],
  );
}
