/**
 * A corpus of hostile and broken torrents, each built in the test with `encode`,
 * with the error code and message it must produce. None may crash, allocate
 * according to a declared size, or be accepted. Hostile file names are not
 * refused: they are rewritten (file-names.ts), and the second part checks the
 * exact names each one gets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Encodable } from '../../../src/bencode/index.js';
import { encode } from '../../../src/bencode/index.js';
import { type ErrorCode, LodestoneError } from '../../../src/errors.js';
import { parseInfoDictionary, parseTorrent } from '../../../src/metainfo/index.js';
import {
  fakePieceHashes,
  multiFileInfo,
  PIECE_16K,
  singleFileInfo,
  torrentBytes,
} from './torrent-builder.js';

const INVALID: ErrorCode = 'LODESTONE_ERR_METAINFO';

interface HostileCase {
  name: string;
  bytes: Uint8Array;
  code: ErrorCode;
  message: string;
}

/** A multi-file torrent holding one file at `path` (plus a harmless sibling). */
function withPath(path: Encodable[]): Buffer {
  const info = multiFileInfo([{ path: ['ok'], length: 10 }]);
  (info.files as Record<string, Encodable>[]).push({ length: 10, path });
  info.pieces = fakePieceHashes(20, PIECE_16K);
  return torrentBytes(info);
}

function withName(name: Encodable): Buffer {
  return torrentBytes(singleFileInfo(100, { name }));
}

function withInfo(extra: Record<string, Encodable | undefined>): Buffer {
  return torrentBytes(singleFileInfo(100, extra));
}

function withFiles(files: Encodable): Buffer {
  return torrentBytes(multiFileInfo([], { files }));
}

/** A torrent whose `files` value is `depth` nested lists, written raw (encode would refuse it). */
function withNestedFiles(depth: number): Buffer {
  const nested = `${'l'.repeat(depth)}${'e'.repeat(depth)}`;
  return Buffer.from(`d4:infod5:files${nested}4:name1:x12:piece lengthi16384e6:pieces0:ee`);
}

const cases: HostileCase[] = [
  // Sizes.
  {
    name: 'declared length 2^60',
    bytes: withInfo({ length: 2n ** 60n }),
    code: INVALID,
    message: 'not valid bencode: integer too large',
  },
  {
    name: 'declared length 2^53 + 2',
    bytes: withInfo({ length: 2n ** 53n + 2n }),
    code: INVALID,
    message: 'integer beyond 2^53',
  },
  {
    name: 'declared length 2^52',
    bytes: withInfo({ length: 2 ** 52, pieces: Buffer.alloc(20) }),
    code: INVALID,
    message: 'exceeds the limit',
  },
  {
    name: 'lengths summing past the limit',
    bytes: torrentBytes(
      multiFileInfo(
        [
          { path: ['a'], length: 2 ** 50 },
          { path: ['b'], length: 2 ** 50 },
        ],
        { pieces: Buffer.alloc(20) },
      ),
    ),
    code: INVALID,
    message: 'total length exceeds',
  },
  {
    name: 'negative length',
    bytes: withInfo({ length: -1 }),
    code: INVALID,
    message: 'must not be negative',
  },
  {
    name: 'negative file length',
    bytes: torrentBytes(multiFileInfo([{ path: ['a'], length: -5 }])),
    code: INVALID,
    message: "'info.files[0].length' must not be negative",
  },
  {
    name: 'zero total length',
    bytes: withInfo({ length: 0, pieces: '' }),
    code: INVALID,
    message: 'no data',
  },
  // Pieces.
  {
    name: 'pieces not a multiple of 20',
    bytes: withInfo({ pieces: Buffer.alloc(21) }),
    code: INVALID,
    message: 'not a multiple of 20',
  },
  {
    name: 'piece count mismatch',
    bytes: withInfo({ length: 40_000, pieces: Buffer.alloc(40) }),
    code: INVALID,
    message: 'holds 2 hashes, but 40000 bytes in pieces of 16384 need 3',
  },
  {
    name: 'piece length 1000',
    bytes: withInfo({ 'piece length': 1000 }),
    code: INVALID,
    message: 'power of two',
  },
  { name: 'piece length 0', bytes: withInfo({ 'piece length': 0 }), code: INVALID, message: 'got 0' },
  {
    name: 'piece length 3*16K',
    bytes: withInfo({ 'piece length': 49_152 }),
    code: INVALID,
    message: 'power of two',
  },
  {
    name: 'piece length 8K',
    bytes: withInfo({ 'piece length': 8192 }),
    code: INVALID,
    message: 'power of two',
  },
  {
    name: 'piece length 2^29',
    bytes: withInfo({ 'piece length': 2 ** 29 }),
    code: INVALID,
    message: '256 MiB',
  },
  {
    name: 'piece length 2^40',
    bytes: withInfo({ 'piece length': 2 ** 40 }),
    code: INVALID,
    message: 'power of two',
  },
  {
    name: 'negative piece length',
    bytes: withInfo({ 'piece length': -16384 }),
    code: INVALID,
    message: 'got -16384',
  },
  // Nesting.
  {
    name: '10,000 "l" as the file',
    bytes: Buffer.from('l'.repeat(10_000)),
    code: INVALID,
    message: 'nesting deeper',
  },
  {
    name: '10,000 nested lists as files',
    bytes: withNestedFiles(10_000),
    code: INVALID,
    message: 'nesting deeper',
  },
  // Structure and types.
  { name: 'not a dictionary', bytes: Buffer.from('le'), code: INVALID, message: 'not a bencoded dictionary' },
  { name: 'empty input', bytes: Buffer.alloc(0), code: INVALID, message: 'not valid bencode' },
  { name: 'garbage', bytes: Buffer.from('<html>'), code: INVALID, message: 'not valid bencode' },
  { name: 'trailing garbage', bytes: Buffer.from('de!'), code: INVALID, message: 'trailing data' },
  { name: 'missing info', bytes: encode({ announce: 'x' }), code: INVALID, message: "'info' is missing" },
  {
    name: 'info is a list',
    bytes: encode({ info: [] }),
    code: INVALID,
    message: "'info' must be a dictionary",
  },
  {
    name: 'name missing',
    bytes: withInfo({ name: undefined }),
    code: INVALID,
    message: "'info.name' is missing",
  },
  { name: 'name an integer', bytes: withName(5), code: INVALID, message: "'info.name' must be a string" },
  {
    name: 'piece length missing',
    bytes: withInfo({ 'piece length': undefined }),
    code: INVALID,
    message: "'info.piece length' is missing",
  },
  {
    name: 'piece length a string',
    bytes: withInfo({ 'piece length': '16384' }),
    code: INVALID,
    message: "'info.piece length' must be an integer, not a string",
  },
  {
    name: 'pieces missing',
    bytes: withInfo({ pieces: undefined }),
    code: INVALID,
    message: "'info.pieces' is missing",
  },
  {
    name: 'pieces a list',
    bytes: withInfo({ pieces: [] }),
    code: INVALID,
    message: "'info.pieces' must be a string",
  },
  {
    name: 'length a string',
    bytes: withInfo({ length: '100' }),
    code: INVALID,
    message: "'info.length' must be",
  },
  { name: 'files a dictionary', bytes: withFiles({}), code: INVALID, message: "'info.files' must be a list" },
  {
    name: 'files entry an integer',
    bytes: withFiles([1]),
    code: INVALID,
    message: "'info.files[0]' must be a dict",
  },
  {
    name: 'file length missing',
    bytes: withFiles([{ path: ['a'] }]),
    code: INVALID,
    message: "'info.files[0].length' is missing",
  },
  {
    name: 'path missing',
    bytes: withFiles([{ length: 1 }]),
    code: INVALID,
    message: "'info.files[0].path' is missing",
  },
  {
    name: 'path a string',
    bytes: withFiles([{ length: 1, path: 'a/b' }]),
    code: INVALID,
    message: "'info.files[0].path' must be a list",
  },
  {
    name: 'path component an integer',
    bytes: withFiles([{ length: 1, path: ['a', 3] }]),
    code: INVALID,
    message: "'info.files[0].path[1]' must be a string, not an integer",
  },
  {
    name: 'empty path list',
    bytes: withFiles([{ length: 1, path: [] }]),
    code: INVALID,
    message: "'info.files[0].path' must not be empty",
  },
  {
    name: 'attr an integer',
    bytes: withFiles([{ length: 1, path: ['a'], attr: 1 }]),
    code: INVALID,
    message: "'info.files[0].attr' must be a string",
  },
  { name: 'private a string', bytes: withInfo({ private: '1' }), code: INVALID, message: "'info.private'" },
  {
    name: 'meta version a string',
    bytes: withInfo({ 'meta version': '2' }),
    code: INVALID,
    message: 'meta version',
  },
  {
    name: 'empty files list',
    bytes: withFiles([]),
    code: INVALID,
    message: "'info.files' must not be empty",
  },
  {
    name: 'both length and files',
    bytes: withInfo({ files: [{ length: 1, path: ['a'] }] }),
    code: INVALID,
    message: "both 'length' and 'files'",
  },
  {
    name: 'neither length nor files',
    bytes: withInfo({ length: undefined }),
    code: INVALID,
    message: 'neither',
  },
];

describe('hostile torrents are rejected with a clear, typed error', () => {
  for (const hostile of cases) {
    test(hostile.name, () => {
      assert.throws(
        () => parseTorrent(hostile.bytes),
        (error: unknown) => {
          assert.ok(error instanceof LodestoneError, `not a LodestoneError: ${String(error)}`);
          assert.equal(error.code, hostile.code, error.message);
          assert.ok(error.message.includes(hostile.message), `"${error.message}" lacks "${hostile.message}"`);
          assert.doesNotMatch(error.message, /[\x00-\x1f\x7f]/, 'messages stay printable');
          return true;
        },
      );
    });
  }

  test('the same info dictionaries fail the same way through parseInfoDictionary', () => {
    const info = encode(multiFileInfo([{ path: ['a'], length: -1 }]));
    assert.throws(() => parseInfoDictionary(info), { code: INVALID, message: /must not be negative/ });
  });

  test('padding files may repeat a path (hybrid torrents do)', () => {
    const meta = parseTorrent(
      torrentBytes(
        multiFileInfo([
          { path: ['a'], length: 1 },
          { path: ['.pad', '16383'], length: 16_383, attr: 'p' },
          { path: ['b'], length: 1 },
          { path: ['.pad', '16383'], length: 16_383, attr: 'p' },
          { path: ['c'], length: 1 },
        ]),
      ),
    );
    assert.equal(meta.files.length, 5);
  });

  test('names that merely look odd are accepted', () => {
    for (const name of [
      '.hidden',
      'con-troll',
      'CONSOLE',
      'a..b',
      'com0',
      'lpt',
      'ab:c',
      '…',
      ' leading',
      'ünï',
    ]) {
      assert.equal(parseTorrent(withName(name)).name, name);
    }
  });
});

/** The sanitised path of the hostile file (the second) in `withPath(path)`, with Linux rules (parseTorrent on this host). */
function sanitisedPath(path: Encodable[]): string {
  const meta = parseTorrent(withPath(path));
  assert.deepEqual(meta.files[0]!.path, ['folder', 'ok'], 'the harmless file keeps its name');
  return meta.files[1]!.path.join('/');
}

describe('hostile names are rewritten into safe ones, not refused', () => {
  const rewritten: [string, Encodable[], string][] = [
    ['".." component dropped', ['..', 'x'], 'folder/x'],
    ['"." alone becomes "_"', ['.'], 'folder/_'],
    ['only ".." components become "_"', ['..', '..', '..'], 'folder/_'],
    ['"a/../../../b" as components', ['a', '..', '..', '..', 'b'], 'folder/a/b'],
    ['absolute /etc/passwd as one component', ['/etc/passwd'], 'folder/_etc_passwd'],
    ['absolute path as components (empty first)', ['', 'etc', 'passwd'], 'folder/etc/passwd'],
    ['empty component dropped', ['a', '', 'b'], 'folder/a/b'],
    ['slash inside a component', ['a/b'], 'folder/a_b'],
    ['backslashes', ['a\\..\\..\\b'], 'folder/a_.._.._b'],
    ['NUL', ['a\0b'], 'folder/a_b'],
    ['escape sequence', ['\x1b[31mred'], 'folder/_[31mred'],
    ['newline', ['a\nb'], 'folder/a_b'],
    ['DEL and a C1 control', ['a\x7f\u0085'], 'folder/a__'],
    ['right-to-left override removed', ['evil\u202Etxt.exe'], 'folder/eviltxt.exe'],
    ['invalid UTF-8: each bad byte', [Buffer.from([0x61, 0xff, 0xfe, 0x62])], 'folder/a__b'],
    // Windows-only rules do not apply on Linux: these are ordinary names here.
    ['drive letter "C:" (Linux)', ['C:', 'x'], 'folder/C:/x'],
    ['aux.c (Linux)', ['drivers', 'aux.c'], 'folder/drivers/aux.c'],
    ['trailing dot (Linux)', ['Vol. 1.'], 'folder/Vol. 1.'],
    ['trailing space (Linux)', ['file '], 'folder/file '],
    // The harmless sibling is "ok": the hostile one collides with it once "..", is dropped.
    ['"../ok" collides with "ok"', ['..', 'ok'], 'folder/ok.1'],
  ];
  for (const [title, path, expected] of rewritten) {
    test(title, () => assert.equal(sanitisedPath(path), expected));
  }

  test('the torrent name is sanitised too, never empty', () => {
    assert.equal(parseTorrent(withName('..')).name, '_');
    assert.equal(parseTorrent(withName('/')).name, '_');
    assert.equal(parseTorrent(withName('')).name, '_');
    assert.equal(parseTorrent(withName('a/../b')).name, 'a_.._b');
    assert.equal(parseTorrent(withInfo({ 'name.utf-8': '../x' })).name, '.._x');
    const meta = parseTorrent(withName('../evil'));
    assert.deepEqual(meta.files[0]!.path, ['.._evil']);
    assert.deepEqual(meta.files[0]!.originalPath, ['../evil']);
  });

  test('a hostile path.utf-8 is used (it is preferred) and sanitised', () => {
    const meta = parseTorrent(
      torrentBytes(
        multiFileInfo([], {
          files: [{ length: 10, path: ['ok'], 'path.utf-8': ['..'] }],
          pieces: Buffer.alloc(20),
        }),
      ),
    );
    assert.deepEqual(meta.files[0]!.path, ['folder', '_']);
    assert.deepEqual(meta.files[0]!.originalPath, ['folder', '..']);
  });

  test('duplicates and file/folder clashes are renamed name.N.ext, in list order', () => {
    const meta = parseTorrent(
      torrentBytes(
        multiFileInfo([
          { path: ['d', 'same.txt'], length: 1 },
          { path: ['d', 'same.txt'], length: 1 },
          { path: ['d', 'same.txt'], length: 1 },
          { path: ['d', 'same.1.txt'], length: 1 },
          { path: ['d', 'x'], length: 1 },
          { path: ['d', 'x', 'y'], length: 1 },
          { path: ['d', '.', 'same.txt'], length: 1 },
        ]),
      ),
    );
    assert.deepEqual(
      meta.files.map((file) => file.path.slice(1).join('/')),
      ['d/same.txt', 'd/same.1.txt', 'd/same.2.txt', 'd/same.1.1.txt', 'd/x.1', 'd/x/y', 'd/same.3.txt'],
    );
    assert.deepEqual(
      meta.files.map((file) => file.originalPath?.slice(1).join('/')),
      [undefined, 'd/same.txt', 'd/same.txt', 'd/same.1.txt', 'd/x', undefined, 'd/./same.txt'],
    );
  });

  test('names differing only in case stay distinct on Linux (the kernel has xt_CONNMARK.h and xt_connmark.h)', () => {
    const info = multiFileInfo([
      { path: ['xt_CONNMARK.h'], length: 1 },
      { path: ['xt_connmark.h'], length: 1 },
    ]);
    const meta = parseTorrent(torrentBytes(info));
    assert.deepEqual(
      meta.files.map((file) => file.path[1]),
      process.platform === 'linux'
        ? ['xt_CONNMARK.h', 'xt_connmark.h']
        : ['xt_CONNMARK.h', 'xt_connmark.1.h'],
    );
  });

  test('a 300-byte name is cut to 240 bytes, keeping its extension and whole code points', () => {
    assert.equal(sanitisedPath([`${'x'.repeat(300)}.mkv`]), `folder/${'x'.repeat(236)}.mkv`);
    const snowmen = sanitisedPath([`${'☃'.repeat(100)}.txt`]).slice('folder/'.length);
    assert.equal(snowmen, `${'☃'.repeat(78)}.txt`);
    assert.ok(Buffer.byteLength(snowmen) <= 240);
    assert.equal(Buffer.byteLength(sanitisedPath(['y'.repeat(300)]).slice('folder/'.length)), 240);
  });

  test('parsing is deterministic: the same torrent always gets the same names', () => {
    const bytes = withPath(['..', 'ok']);
    assert.deepEqual(parseTorrent(bytes).files, parseTorrent(bytes).files);
  });

  test('parseInfoDictionary (magnet metadata) sanitises the same way', () => {
    const info = encode(multiFileInfo([{ path: ['..', 'a/b'], length: 1 }]));
    assert.deepEqual(parseInfoDictionary(info).files[0]!.path, ['folder', 'a_b']);
  });
});

describe('BEP 47 symlinks and BitComet padding', () => {
  function parseFiles(files: Record<string, Encodable>[], total: number) {
    return parseTorrent(
      torrentBytes({
        name: 'folder',
        'piece length': PIECE_16K,
        pieces: fakePieceHashes(total, PIECE_16K),
        files,
      }),
    );
  }

  test('a symlink holds no bytes (its length is ignored, or may be missing) and keeps a target inside', () => {
    const meta = parseFiles(
      [
        { length: 10, path: ['real.txt'] },
        { attr: 'l', 'symlink path': ['real.txt'], path: ['link'] },
        { attr: 'l', 'symlink path': ['sub', '..', 'real.txt'], length: 5000, path: ['link2'] },
        { length: 10, path: ['z'] },
      ],
      20,
    );
    assert.equal(meta.totalLength, 20, 'symlinks are not in the piece space');
    assert.deepEqual(
      meta.files.map((file) => [file.length, file.offset]),
      [
        [10, 0],
        [0, 10],
        [0, 10],
        [10, 10],
      ],
    );
    assert.deepEqual(meta.files[1]!.symlink, { target: ['folder', 'real.txt'], original: ['real.txt'] });
    assert.deepEqual(meta.files[2]!.symlink!.target, ['folder', 'real.txt']);
  });

  test('a symlink whose target leaves the torrent folder is kept but marked not to create', () => {
    const meta = parseFiles(
      [
        { length: 10, path: ['a'] },
        { attr: 'l', 'symlink path': ['..', '..', 'etc', 'passwd'], path: ['evil'] },
        { attr: 'l', 'symlink path': ['..'], path: ['self'] },
        { attr: 'l', 'symlink path': ['/etc/passwd'], path: ['abs'] },
      ],
      10,
    );
    assert.equal(meta.files[1]!.symlink!.target, null);
    assert.deepEqual(meta.files[1]!.symlink!.original, ['..', '..', 'etc', 'passwd']);
    assert.equal(meta.files[2]!.symlink!.target, null, 'the torrent folder itself is not a target');
    assert.deepEqual(meta.files[3]!.symlink!.target, ['folder', '_etc_passwd'], 'a separator cannot escape');
  });

  test('attr "l" without a symlink path is an ordinary file, which needs its length', () => {
    assert.throws(() => parseFiles([{ attr: 'l', path: ['x'] }], 1), /'info.files\[0\].length' is missing/);
    const meta = parseFiles([{ attr: 'lx', length: 10, path: ['x'] }], 10);
    assert.equal(meta.files[0]!.symlink, undefined);
    assert.equal(meta.files[0]!.executable, true);
  });

  test('BitComet padding files (no attr) are padding; padding without a path gets a synthetic one', () => {
    const meta = parseFiles(
      [
        { length: 10, path: ['a'] },
        {
          length: 16_374,
          path: ['_____padding_file_0_如果您看到此文件，请您升级到BitComet(比特彗星)0.85或以上版本____'],
        },
        { length: 16_374, attr: 'p' },
        { length: 10, path: ['b'] },
      ],
      10 + 16_374 * 2 + 10,
    );
    assert.deepEqual(
      meta.files.map((file) => file.padding),
      [false, true, true, false],
    );
    assert.deepEqual(meta.files[2]!.path, ['folder', '.pad', '16374']);
  });

  test('an entry without a path that is not padding is still refused', () => {
    assert.throws(() => parseFiles([{ length: 10 }], 10), /'info.files\[0\].path' is missing/);
  });
});
