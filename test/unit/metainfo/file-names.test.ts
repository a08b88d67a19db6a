import assert from 'node:assert/strict';
import { join, relative, resolve, sep } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decode, encode, isDict } from '../../../src/bencode/index.js';
import {
  MAX_RENAME_COLLISIONS,
  resolveDuplicatePaths,
  sanitizeComponent,
  sanitizePath,
  sanitizeSymlinkTarget,
  truncateComponent,
} from '../../../src/metainfo/file-names.js';
import { readInfoFields } from '../../../src/metainfo/info-dictionary.js';
import { fakePieceHashes, PIECE_16K } from './torrent-builder.js';

const LINUX = { windows: false, foldCase: false };
const WINDOWS = { windows: true, foldCase: true };

describe('sanitizeComponent', () => {
  const cases: [string, string, string][] = [
    // [input, Linux, Windows]
    ['plain.txt', 'plain.txt', 'plain.txt'],
    ['.', '', ''],
    ['..', '', ''],
    ['', '', ''],
    ['a/b\\c', 'a_b_c', 'a_b_c'],
    ['nul\0byte', 'nul_byte', 'nul_byte'],
    ['tab\there', 'tab_here', 'tab_here'],
    ['aux.c', 'aux.c', '_aux.c'],
    ['CON', 'CON', '_CON'],
    ['con .tar.gz', 'con .tar.gz', '_con .tar.gz'],
    ['LPT1', 'LPT1', '_LPT1'],
    ['com¹.log', 'com¹.log', '_com¹.log'],
    ['CONSOLE', 'CONSOLE', 'CONSOLE'],
    ['Vol. 1.', 'Vol. 1.', 'Vol. 1'],
    ['trailing . . ', 'trailing . . ', 'trailing'],
    ['...', '...', ''],
    [' . ', ' . ', ''],
    ['C:', 'C:', 'C_'],
    ['what?<>|*"', 'what?<>|*"', 'what______'],
    ['\u200bhidden\u202e', 'hidden', 'hidden'],
    ['\u200b..', '', ''],
    ['.hidden', '.hidden', '.hidden'],
  ];
  for (const [input, linux, windows] of cases) {
    test(`${JSON.stringify(input)}: Linux ${JSON.stringify(linux)}, Windows ${JSON.stringify(windows)}`, () => {
      assert.equal(sanitizeComponent(input, LINUX), linux);
      assert.equal(sanitizeComponent(input, WINDOWS), windows);
    });
  }

  test('invalid UTF-8 bytes become "_"; valid bytes decode as they are', () => {
    assert.equal(sanitizeComponent(Buffer.from([0x61, 0xc3, 0x28, 0x62]), LINUX), 'a_(b');
    assert.equal(sanitizeComponent(Buffer.from('ünï'), LINUX), 'ünï');
  });

  test('the default rules follow process.platform', () => {
    assert.equal(sanitizeComponent('aux.c'), process.platform === 'win32' ? '_aux.c' : 'aux.c');
  });
});

describe('truncateComponent', () => {
  test('keeps names up to 240 bytes', () => {
    assert.equal(truncateComponent('a'.repeat(240)), 'a'.repeat(240));
  });
  test('cuts to 240 bytes, keeping a short extension', () => {
    assert.equal(truncateComponent(`${'a'.repeat(300)}.tar`), `${'a'.repeat(236)}.tar`);
    const long = `${'a'.repeat(100)}.${'b'.repeat(200)}`;
    assert.equal(truncateComponent(long), long.slice(0, 240), 'a long "extension" is just cut');
  });
  test('never splits a code point', () => {
    for (const char of ['é', '☃', '😀']) {
      const cut = truncateComponent(char.repeat(200));
      assert.ok(Buffer.byteLength(cut) <= 240);
      assert.equal(cut, char.repeat(Math.floor(240 / Buffer.byteLength(char))));
    }
  });
  test('Windows trailing-dot removal happens after cutting', () => {
    const name = `${'a'.repeat(239)} bbbb`;
    assert.equal(sanitizeComponent(name, WINDOWS), 'a'.repeat(239));
    assert.equal(sanitizeComponent(name, LINUX), `${'a'.repeat(239)} `);
  });
});

describe('sanitizePath and symlink targets', () => {
  test('a path left empty becomes "_"', () => {
    assert.deepEqual(sanitizePath(['..', '.', ''], LINUX), ['_']);
    assert.deepEqual(sanitizePath(['a', '..', 'b'], LINUX), ['a', 'b']);
  });
  test('symlink targets: ".." climbs, leaving the folder gives null', () => {
    assert.deepEqual(sanitizeSymlinkTarget(['a', '..', 'b'], LINUX), ['b']);
    assert.equal(sanitizeSymlinkTarget(['..', 'b'], LINUX), null);
    assert.equal(sanitizeSymlinkTarget(['a', '..'], LINUX), null);
    assert.equal(sanitizeSymlinkTarget([], LINUX), null);
    assert.deepEqual(sanitizeSymlinkTarget(['/etc', 'passwd'], LINUX), ['_etc', 'passwd']);
  });
});

describe('resolveDuplicatePaths', () => {
  const entries = (...paths: string[][]) => paths.map((path) => ({ path, padding: false }));

  test('case collisions are renamed only when folding case (Windows, macOS)', () => {
    const files = entries(['t', 'README'], ['t', 'readme']);
    assert.deepEqual([...resolveDuplicatePaths(files, LINUX)], []);
    assert.deepEqual([...resolveDuplicatePaths(files, WINDOWS)], [[1, ['t', 'readme.1']]]);
  });

  test('padding files take no part', () => {
    const files = [
      { path: ['t', '.pad', '1'], padding: true },
      { path: ['t', '.pad', '1'], padding: true },
      { path: ['t', '.pad'], padding: true },
    ];
    assert.equal(resolveDuplicatePaths(files, LINUX).size, 0);
  });

  test('a renamed name that is itself taken moves on to the next number', () => {
    const files = entries(['t', 'a.txt'], ['t', 'a.1.txt'], ['t', 'a.txt']);
    assert.deepEqual([...resolveDuplicatePaths(files, LINUX)], [[2, ['t', 'a.2.txt']]]);
  });

  test('renaming a 240-byte name stays within 240 bytes', () => {
    const name = `${'n'.repeat(236)}.bin`;
    const renamed = resolveDuplicatePaths(entries(['t', name], ['t', name]), LINUX).get(1)!;
    assert.equal(renamed[1], `${'n'.repeat(234)}.1.bin`);
  });

  test('many copies of one name cost one rename each', () => {
    const files = entries(...Array.from({ length: 20_000 }, () => ['t', 'same']));
    const renamed = resolveDuplicatePaths(files, LINUX);
    assert.equal(renamed.size, 19_999);
    assert.deepEqual(renamed.get(19_999), ['t', 'same.19999']);
  });

  test('a list built so renamed names keep colliding is refused', () => {
    const taken = Array.from({ length: MAX_RENAME_COLLISIONS + 5 }, (_, i) => ['t', `x.${i + 1}`]);
    const files = entries(...taken, ['t', 'x'], ['t', 'x']);
    assert.throws(() => resolveDuplicatePaths(files, LINUX), { code: 'LODESTONE_ERR_UNSAFE_PATH' });
  });
});

/** Components chosen to hurt: traversal, separators, devices, controls, case twins, long names. */
const hostileComponent = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '',
    '/',
    '\\',
    '../..',
    'a/../../b',
    '/etc/passwd',
    'C:',
    'c:\\x',
    'aux',
    'AUX.c',
    'nul.txt',
    'CON .',
    'x.',
    'x ',
    'x',
    'X',
    'x.1',
    '\0',
    '\x1b[2J',
    '\u202e',
    '\u200b..',
    'é'.repeat(130),
    `${'z'.repeat(250)}.ext`,
  ),
  fc.string({ maxLength: 6 }),
);

function hostileInfo(paths: string[][], name: string): Uint8Array {
  const files = paths.map((path) => ({ length: 1, path }));
  return encode({
    name,
    'piece length': PIECE_16K,
    pieces: fakePieceHashes(files.length, PIECE_16K),
    files,
  });
}

test('property: any hostile file list gets distinct paths strictly inside the download folder, deterministically', () => {
  const root = resolve('/downloads/here');
  fc.assert(
    fc.property(
      fc.array(fc.array(hostileComponent, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
      hostileComponent,
      fc.boolean(),
      (paths, name, windows) => {
        const rules = { windows, foldCase: windows };
        const decoded = decode(hostileInfo(paths, name));
        assert.ok(isDict(decoded));
        const fields = readInfoFields(decoded, rules);
        assert.deepEqual(readInfoFields(decoded, rules).files, fields.files, 'deterministic');
        const seen = new Set<string>();
        const folders = new Set<string>();
        for (const file of fields.files) {
          const full = join(root, ...file.path);
          const inside = relative(root, full);
          assert.ok(inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..', full);
          assert.equal(resolve(root, ...file.path), full, 'no component is interpreted');
          for (const component of file.path) {
            assert.ok(!['', '.', '..'].includes(component));
            assert.doesNotMatch(component, /[/\\\x00-\x1f\x7f]/);
            assert.ok(Buffer.byteLength(component) <= 240);
            if (windows) assert.doesNotMatch(component, /[. ]$|[<>:"|?*]/);
          }
          const key = windows ? file.path.join('/').toLowerCase() : file.path.join('/');
          assert.ok(!seen.has(key), `duplicate ${key}`);
          seen.add(key);
          for (let depth = 1; depth < file.path.length; depth++) {
            const folder = file.path.slice(0, depth).join('/');
            folders.add(windows ? folder.toLowerCase() : folder);
          }
        }
        for (const key of seen) assert.ok(!folders.has(key), `${key} is a file and a folder`);
      },
    ),
    { numRuns: 500 },
  );
});
