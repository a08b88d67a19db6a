import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { terminalText } from '../../../src/cli/terminal-text.js';

/** What must never reach a terminal raw: C0, DEL, C1, bidi controls, line separators, invisibles. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;
const UNSAFE_CHARS = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i),
  0x061c,
  0x200b,
  0x200e,
  0x200f,
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2060,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
  0xfeff,
].map((code) => String.fromCharCode(code));

test('terminal escapes become visible text', () => {
  assert.equal(terminalText('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07');
  assert.equal(terminalText('\x1b[2J\x1b[H'), '\\x1b[2J\\x1b[H');
  assert.equal(terminalText('\u009b2J'), '\\x9b2J');
  assert.equal(terminalText('photo\u202egpj.exe'), 'photo\\u202egpj.exe');
  assert.equal(terminalText('a\tb\nc\rd\x00e\x7f'), 'a\\x09b\\x0ac\\x0dd\\x00e\\x7f');
  assert.equal(
    terminalText('\u2066x\u2069\u200f\u061c\ufeff\u2028'),
    '\\u2066x\\u2069\\u200f\\u061c\\ufeff\\u2028',
  );
});

test('printable text is unchanged: ASCII, other scripts, emoji with joiners, Persian ZWNJ', () => {
  for (const text of [
    'Ubuntu 24.04 (x86_64) [ISO] ~ 100% \\ "q"',
    'Ünïcødé × ☃ 日本語 עברית',
    '👩‍💻',
    'می‌خواهم',
  ]) {
    assert.equal(terminalText(text), text);
  }
});

test('every unsafe character is escaped (exhaustive list)', () => {
  for (const c of UNSAFE_CHARS) {
    const out = terminalText(`a${c}b`);
    assert.doesNotMatch(out, UNSAFE, `U+${c.charCodeAt(0).toString(16)}`);
    assert.match(out, /^a\\(x[0-9a-f]{2}|u[0-9a-f]{4})b$/);
  }
});

test('property: output never holds an unsafe character, and printable ASCII passes unchanged', () => {
  const anyChar = fc.oneof(
    fc.constantFrom(...UNSAFE_CHARS),
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
  );
  fc.assert(
    fc.property(fc.array(anyChar, { maxLength: 60 }), (chars) => {
      const out = terminalText(chars.join(''));
      assert.doesNotMatch(out, UNSAFE);
      assert.equal(out.includes('\n'), false);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii' }), (text) => {
      assert.equal(terminalText(text), text);
    }),
  );
});
