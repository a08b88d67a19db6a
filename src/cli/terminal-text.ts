/**
 * Text from a torrent, a tracker or a peer shown on a terminal. Such text can hold escape
 * sequences that retitle or clear the terminal, move the cursor over earlier lines, or (bidi
 * overrides) make a name read backwards; tabs and line breaks in it would break our lines.
 * `terminalText` escapes all of these; the CLI passes every human-readable line through it
 * where the line is written (Reporter, warnings, the error printer, `info`). `--json` output
 * is never escaped here: JSON.stringify keeps the exact text for programs.
 */

/**
 * Escaped: every C0 control (U+0000–U+001F, tab and newline included), DEL, every C1 control
 * (U+0080–U+009F, e.g. U+009B, a one-character CSI), the bidi controls (U+061C, U+200E,
 * U+200F, U+202A–U+202E, U+2066–U+2069), the line and paragraph separators U+2028/U+2029,
 * and the invisible U+200B (zero-width space), U+2060 (word joiner) and U+FEFF (BOM), which
 * could make two different names look alike. Not escaped: U+200C/U+200D (zero-width
 * (non-)joiners, needed by Persian, Indic scripts and emoji) and everything else.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/g;

function escaped(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` safe to print: each unsafe character becomes `\xNN` (up to U+00FF) or `\uNNNN`.
 * Printable text (ASCII and other scripts) is unchanged; the result is one line. A backslash is
 * left as is: core error messages already show some controls as `\xNN` (printableName) and are
 * escaped again here, which must not double them; so a name that holds the four characters
 * `\x1b` reads like one holding ESC (`--json` tells them apart).
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escaped);
}
