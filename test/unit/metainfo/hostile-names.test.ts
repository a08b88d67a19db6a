/**
 * Hostile file names are rewritten, not refused (file-names.ts): the exact
 * name each one gets on Linux (parseTorrent on this host), duplicates, long
 * names, determinism, BEP 47 symlinks and BitComet padding.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Encodable } from '../../../src/bencode/index.js';
import { encode } from '../../../src/bencode/index.js';
import { parseInfoDictionary, parseTorrent } from '../../../src/metainfo/index.js';
import {
  fakePieceHashes,
  multiFileInfo,
  PIECE_16K,
  singleFileInfo,
  torrentBytes,
} from './torrent-builder.js';

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
