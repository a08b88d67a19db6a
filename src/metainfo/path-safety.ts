/**
 * Checks for path components Lodestone itself writes or creates.
 *
 * Parsing a torrent no longer refuses odd names: it rewrites them (file-names.ts),
 * as libtorrent and Transmission do. What stays here is the strict check used
 * where refusing is right: `lodestone create` never makes a torrent whose names
 * another client would have to rewrite, and `resolveInside` is defence in depth
 * for anything that joins components under a folder.
 *
 * A component is unsafe when it is:
 *  - empty, "." or "..";
 *  - contains "/" or "\" (a separator on some platform);
 *  - contains a control character (0x00-0x1f, 0x7f), NUL included;
 *  - a Windows reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also with
 *    superscript digits), case-insensitive, with or without an extension ("nul.txt");
 *  - ends with "." or " " (Windows strips them, so "a." and "a" would be one file);
 *  - starts with a drive letter ("C:", "c:foo"), which Windows resolves outside the folder.
 * The last three are Windows-only rules: `{ windows: false }` leaves them out (what `create`
 * uses off Windows: `aux.c` and `notes.` are real files there, and downloaders on Windows
 * rewrite such names). Other characters that Windows forbids (`:` elsewhere, `<>"|?*`) are
 * accepted: they cannot escape the download folder, and torrents use them legitimately on Unix.
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

/** Which checks apply: the Windows-only ones (drive letters, trailing dots and spaces, device names) by default. */
export interface ComponentRules {
  /** @default true */
  windows?: boolean;
}

/** Why `name` is not a safe path component, or undefined when it is safe. */
export function unsafeComponentReason(name: string, rules: ComponentRules = {}): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name === '.' || name === '..') return 'is a relative directory reference';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator';
  if (CONTROL_CHARACTER.test(name)) return 'contains a control character';
  if (rules.windows === false) return undefined;
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
export function assertSafeComponent(name: string, where = 'path', rules: ComponentRules = {}): void {
  const reason = unsafeComponentReason(name, rules);
  if (reason !== undefined) {
    throw new MetainfoError(
      `unsafe path component "${printableName(name)}" in ${where}: ${reason}`,
      'LODESTONE_ERR_UNSAFE_PATH',
    );
  }
}

/**
 * The absolute path of `components` inside `root`. Every component is checked
 * again and the result must lie strictly inside `root`: defence in depth for
 * storage and creation.
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
