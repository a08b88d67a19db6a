/**
 * File names in a torrent are chosen by whoever made it, so they are hostile input.
 *
 * DECISION: reject, do not sanitize. A torrent whose names would need rewriting
 * fails to parse with a MetainfoError (code LODESTONE_ERR_UNSAFE_PATH) naming the
 * offending component. Rewriting names ("..", "CON", "a/b" → something else) would
 * silently produce a file layout that no other client agrees on, can make two
 * files collide after rewriting, and hides the attack from the user. Rejecting is
 * simple to reason about and the rules are the same on every platform, so a
 * torrent that Lodestone accepts on Linux is also safe to write on Windows.
 *
 * A component is rejected when it is:
 *  - empty, "." or "..";
 *  - contains "/" or "\" (a separator on some platform);
 *  - contains a control character (0x00-0x1f, 0x7f), NUL included;
 *  - a Windows reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also with
 *    superscript digits), case-insensitive, with or without an extension ("nul.txt");
 *  - ends with "." or " " (Windows strips them, so "a." and "a" would be one file);
 *  - starts with a drive letter ("C:", "c:foo"), which Windows resolves outside the folder.
 * Other characters that Windows forbids (`:` elsewhere, `<>"|?*`) are accepted: they
 * cannot escape the download folder, and torrents use them legitimately on Unix.
 *
 * Across the whole file list, two files mapping to the same path, or a file whose
 * path is a directory of another file, are rejected too. Names are compared
 * exactly (no case folding or Unicode normalisation). BEP 47 padding files are
 * never written to disk, so they are exempt from the collision checks (hybrid
 * torrents legitimately repeat ".pad/16384").
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { MetainfoError } from '../errors.js';

const RESERVED_DEVICE_NAME = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³])$/i;
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;
const DRIVE_LETTER = /^[a-z]:/i;

/** Shows a hostile name in an error message without letting it break the message. */
export function printableName(name: string): string {
  const escaped = name.replace(
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return escaped.length > 80 ? `${escaped.slice(0, 80)}…` : escaped;
}

/** Why `name` is not a safe path component, or undefined when it is safe. */
export function unsafeComponentReason(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name === '.' || name === '..') return 'is a relative directory reference';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (CONTROL_CHARACTER.test(name)) return 'contains a control character';
  if (DRIVE_LETTER.test(name)) return 'starts with a drive letter';
  if (name.endsWith('.') || name.endsWith(' ')) return 'ends with a dot or space';
  // Windows treats "nul.txt" and "CON .tar.gz" as the device: compare the part before the first dot.
  const base = name.split('.', 1)[0]!.trimEnd();
  if (RESERVED_DEVICE_NAME.test(base)) return 'is a reserved device name on Windows';
  return undefined;
}

/**
 * Throws MetainfoError (LODESTONE_ERR_UNSAFE_PATH) unless `name` is a single safe
 * path component. `where` names the field in the message, e.g. "info.files[3].path".
 */
export function assertSafeComponent(name: string, where = 'path'): void {
  const reason = unsafeComponentReason(name);
  if (reason !== undefined) {
    throw new MetainfoError(
      `unsafe path component "${printableName(name)}" in ${where}: ${reason}`,
      'LODESTONE_ERR_UNSAFE_PATH',
    );
  }
}

/** The part of a file the collision check needs. */
export interface PathEntry {
  path: readonly string[];
  padding: boolean;
}

/**
 * Rejects two files with the same path and a file whose path is also a folder of
 * another file (both would make storage open the wrong thing). Components must
 * already be safe, so joining them with "/" is unambiguous.
 */
export function assertNoPathCollisions(files: readonly PathEntry[]): void {
  const filePaths = new Set<string>();
  const directoryPaths = new Set<string>();
  for (const file of files) {
    if (file.padding) continue;
    const joined = file.path.join('/');
    if (filePaths.has(joined)) {
      throw new MetainfoError(
        `two files share the path "${printableName(joined)}"`,
        'LODESTONE_ERR_UNSAFE_PATH',
      );
    }
    filePaths.add(joined);
    let prefix = '';
    for (let i = 0; i < file.path.length - 1; i++) {
      prefix = i === 0 ? file.path[0]! : `${prefix}/${file.path[i]!}`;
      directoryPaths.add(prefix);
    }
  }
  for (const path of filePaths) {
    if (directoryPaths.has(path)) {
      throw new MetainfoError(
        `"${printableName(path)}" is both a file and a directory`,
        'LODESTONE_ERR_UNSAFE_PATH',
      );
    }
  }
}

/**
 * The absolute path of `components` inside `root`. Every component is checked
 * again and the result must lie strictly inside `root`: defence in depth for
 * storage, even though parsing already rejected unsafe names.
 */
export function resolveInside(root: string, components: readonly string[]): string {
  if (components.length === 0) {
    throw new MetainfoError('a file path needs at least one component', 'LODESTONE_ERR_UNSAFE_PATH');
  }
  for (const component of components) assertSafeComponent(component);
  const base = resolve(root);
  const target = resolve(base, ...components);
  const inside = relative(base, target);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new MetainfoError(
      `path "${printableName(components.join('/'))}" escapes the download folder`,
      'LODESTONE_ERR_UNSAFE_PATH',
    );
  }
  return target;
}
