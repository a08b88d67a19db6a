import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decode, encode } from '../../../src/bencode/index.js';
import { LodestoneError, MetainfoError } from '../../../src/errors.js';
import { parseInfoDictionary, parseTorrent } from '../../../src/metainfo/index.js';
import {
  fakePieceHashes,
  multiFileInfo,
  PIECE_16K,
  sha1Hex,
  singleFileInfo,
  TRACKER,
  torrentBytes,
} from './torrent-builder.js';

describe('parseTorrent: BEP 3 layouts', () => {
  test('single-file torrent', () => {
    const info = singleFileInfo(40_000);
    const meta = parseTorrent(torrentBytes(info));
    assert.equal(meta.name, 'file.bin');
    assert.equal(meta.multiFile, false);
    assert.equal(meta.totalLength, 40_000);
    assert.equal(meta.pieceLength, PIECE_16K);
    assert.equal(meta.pieceCount, 3);
    assert.equal(meta.lastPieceLength, 40_000 - 2 * PIECE_16K);
    assert.deepEqual(meta.files, [{ path: ['file.bin'], length: 40_000, offset: 0, padding: false }]);
    assert.deepEqual(meta.pieceHashes, fakePieceHashes(40_000, PIECE_16K));
    assert.deepEqual(meta.announceTiers, [[TRACKER]]);
    assert.equal(meta.private, false);
    assert.equal(meta.version, 'v1');
    assert.deepEqual(meta.webSeeds, []);
    assert.equal(meta.infoHashHex, sha1Hex(encode(info)));
    assert.deepEqual(meta.infoHash, Buffer.from(meta.infoHashHex, 'hex'));
    assert.deepEqual(meta.infoBytes, encode(info));
  });

  test('multi-file torrent: offsets, paths under the name, zero-length files', () => {
    const meta = parseTorrent(
      torrentBytes(
        multiFileInfo([
          { path: ['a.txt'], length: 10 },
          { path: ['sub', 'empty'], length: 0 },
          { path: ['sub', 'deeper', 'b.bin'], length: 20_000 },
        ]),
      ),
    );
    assert.equal(meta.multiFile, true);
    assert.equal(meta.totalLength, 20_010);
    assert.equal(meta.pieceCount, 2);
    assert.deepEqual(meta.files, [
      { path: ['folder', 'a.txt'], length: 10, offset: 0, padding: false },
      { path: ['folder', 'sub', 'empty'], length: 0, offset: 10, padding: false },
      { path: ['folder', 'sub', 'deeper', 'b.bin'], length: 20_000, offset: 10, padding: false },
    ]);
  });

  test('BEP 47 padding files are flagged and count towards the total', () => {
    const meta = parseTorrent(
      torrentBytes(
        multiFileInfo([
          { path: ['a'], length: 100, attr: 'x' },
          { path: ['.pad', '16284'], length: 16_284, attr: 'p' },
          { path: ['b'], length: 100 },
          { path: ['.pad', '16284'], length: 16_284, attr: 'hp' },
          { path: ['c'], length: 5 },
        ]),
      ),
    );
    assert.deepEqual(
      meta.files.map((f) => f.padding),
      [false, true, false, true, false],
    );
    assert.equal(meta.files[2]!.offset, PIECE_16K);
    assert.equal(meta.totalLength, 2 * PIECE_16K + 5);
  });

  test('name.utf-8 and path.utf-8 win over name and path', () => {
    const info = multiFileInfo([{ path: ['x'], length: 5 }], { 'name.utf-8': 'Ünïcode ☃' });
    (info.files as Record<string, unknown>[])[0]!['path.utf-8'] = ['дир', 'файл.txt'];
    const meta = parseTorrent(torrentBytes(info));
    assert.equal(meta.name, 'Ünïcode ☃');
    assert.deepEqual(meta.files[0]!.path, ['Ünïcode ☃', 'дир', 'файл.txt']);
  });

  test('a malformed path.utf-8 falls back to path', () => {
    const info = multiFileInfo([{ path: ['x'], length: 5 }]);
    (info.files as Record<string, unknown>[])[0]!['path.utf-8'] = [1, 2];
    assert.deepEqual(parseTorrent(torrentBytes(info)).files[0]!.path, ['folder', 'x']);
  });

  test('invalid UTF-8 in names is replaced, not fatal', () => {
    const meta = parseTorrent(torrentBytes(singleFileInfo(100, { name: Buffer.from([0x61, 0xff, 0x62]) })));
    assert.equal(meta.name, 'a_b', 'invalid bytes become "_" (as in libtorrent)');
    assert.deepEqual(meta.files[0]!.originalPath, ['a\uFFFDb']);
  });
});

describe('parseTorrent: descriptive fields', () => {
  test('announce-list tiers win, deduplicated, non-strings and empties skipped', () => {
    const meta = parseTorrent(
      torrentBytes(singleFileInfo(), {
        announce: 'http://ignored.invalid/announce',
        'announce-list': [
          ['http://127.0.0.1:1/a', ' http://127.0.0.1:2/a ', 'http://127.0.0.1:1/a'],
          [5, '', 'udp://127.0.0.1:3'],
          [],
          ['http://127.0.0.1:2/a'],
          'http://127.0.0.1:4/flat',
          7,
        ],
      }),
    );
    assert.deepEqual(meta.announceTiers, [
      ['http://127.0.0.1:1/a', 'http://127.0.0.1:2/a'],
      ['udp://127.0.0.1:3'],
      ['http://127.0.0.1:4/flat'],
    ]);
  });

  test('announce is used when announce-list is empty or unusable', () => {
    const meta = parseTorrent(
      torrentBytes(singleFileInfo(), { announce: TRACKER, 'announce-list': [[''], [3]] }),
    );
    assert.deepEqual(meta.announceTiers, [[TRACKER]]);
    const trackerless = parseTorrent(torrentBytes(singleFileInfo(), {}));
    assert.deepEqual(trackerless.announceTiers, []);
  });

  test('wrong-typed descriptive fields are ignored', () => {
    const meta = parseTorrent(
      torrentBytes(singleFileInfo(), {
        announce: 5,
        'announce-list': 'nope',
        'url-list': 3,
        comment: [1],
        'created by': 2,
        'creation date': 'yesterday',
      }),
    );
    assert.deepEqual(meta.announceTiers, []);
    assert.deepEqual(meta.webSeeds, []);
    assert.equal(meta.comment, undefined);
    assert.equal(meta.createdBy, undefined);
    assert.equal(meta.creationDate, undefined);
  });

  test('private flag (BEP 27)', () => {
    assert.equal(parseTorrent(torrentBytes(singleFileInfo(100, { private: 1 }))).private, true);
    assert.equal(parseTorrent(torrentBytes(singleFileInfo(100, { private: 0 }))).private, false);
  });

  test('url-list as a string or a list (BEP 19)', () => {
    const one = parseTorrent(torrentBytes(singleFileInfo(), { 'url-list': 'http://127.0.0.1/seed/' }));
    assert.deepEqual(one.webSeeds, ['http://127.0.0.1/seed/']);
    const many = parseTorrent(
      torrentBytes(singleFileInfo(), {
        'url-list': ['http://127.0.0.1/a', '', 4, 'http://127.0.0.1/a', 'http://[::1]/b'],
      }),
    );
    assert.deepEqual(many.webSeeds, ['http://127.0.0.1/a', 'http://[::1]/b']);
    const empty = parseTorrent(torrentBytes(singleFileInfo(), { 'url-list': '' }));
    assert.deepEqual(empty.webSeeds, []);
  });

  test('creation date, comment (utf-8 preferred), created by', () => {
    const meta = parseTorrent(
      torrentBytes(singleFileInfo(), {
        'creation date': 1_700_000_000,
        comment: 'plain',
        'comment.utf-8': 'ütf',
        'created by': 'test 1.0',
      }),
    );
    assert.equal(meta.creationDate?.toISOString(), '2023-11-14T22:13:20.000Z');
    assert.equal(meta.comment, 'ütf');
    assert.equal(meta.createdBy, 'test 1.0');
    assert.deepEqual(meta.warnings, []);
    const absurd = parseTorrent(torrentBytes(singleFileInfo(), { 'creation date': 2 ** 52 }));
    assert.equal(absurd.creationDate, undefined);
  });
});

describe('parseTorrent: BEP 52', () => {
  test('meta version 2 with v1 pieces is a hybrid using the v1 part', () => {
    const info = singleFileInfo(40_000, {
      'meta version': 2,
      'file tree': { 'file.bin': { '': { length: 40_000, 'pieces root': Buffer.alloc(32, 1) } } },
    });
    const meta = parseTorrent(torrentBytes(info, { announce: TRACKER, 'piece layers': {} }));
    assert.equal(meta.version, 'hybrid');
    assert.equal(meta.pieceCount, 3);
    assert.equal(meta.infoHashHex, sha1Hex(encode(info)));
  });

  test('v2-only torrents are unsupported', () => {
    const info = {
      name: 'x',
      'piece length': PIECE_16K,
      'meta version': 2,
      'file tree': { x: { '': { length: 5, 'pieces root': Buffer.alloc(32) } } },
    };
    assert.throws(
      () => parseTorrent(torrentBytes(info)),
      (error: unknown) =>
        error instanceof LodestoneError &&
        error.code === 'LODESTONE_ERR_UNSUPPORTED' &&
        error.message.includes('v2-only torrents are not supported yet'),
    );
  });

  test('unknown meta versions are unsupported', () => {
    assert.throws(() => parseTorrent(torrentBytes(singleFileInfo(100, { 'meta version': 3 }))), {
      code: 'LODESTONE_ERR_UNSUPPORTED',
    });
  });
});

describe('parseTorrent: key order and the info-hash', () => {
  const infoRawUnsorted = Buffer.concat([
    Buffer.from('d4:name5:a.txt6:lengthi100e12:piece lengthi16384e6:pieces20:'),
    Buffer.alloc(20, 7),
    Buffer.from('e'),
  ]);

  test('unsorted outer keys are accepted; the hash covers the exact info bytes', () => {
    const info = encode(singleFileInfo(100));
    const bytes = Buffer.concat([
      Buffer.from('d4:info'),
      info,
      Buffer.from(`8:announce${TRACKER.length}:${TRACKER}`),
      Buffer.from('7:comment2:hi7:comment4:dupee'),
    ]);
    const meta = parseTorrent(bytes);
    assert.equal(meta.infoHashHex, sha1Hex(info));
    assert.deepEqual(meta.announceTiers, [[TRACKER]]);
    assert.equal(meta.comment, 'hi', 'first of duplicate keys wins');
  });

  test('an unsorted info dictionary is hashed as-is, never re-encoded', () => {
    const bytes = Buffer.concat([Buffer.from('d4:info'), infoRawUnsorted, Buffer.from('e')]);
    const meta = parseTorrent(bytes);
    assert.equal(meta.infoHashHex, sha1Hex(infoRawUnsorted));
    const reencoded = encode(decode(infoRawUnsorted, { lenient: true }) as Map<string, never>);
    assert.notEqual(meta.infoHashHex, sha1Hex(reencoded));
    assert.deepEqual(meta.infoBytes, infoRawUnsorted);
  });

  test('other bencode errors are not retried and become MetainfoErrors', () => {
    assert.throws(
      () => parseTorrent(Buffer.from('d4:infoi01ee')),
      (error: unknown) =>
        error instanceof MetainfoError &&
        error.code === 'LODESTONE_ERR_METAINFO' &&
        /not valid bencode: leading zero/.test(error.message),
    );
  });

  test('infoBytes and pieceHashes are copies of the input', () => {
    const bytes = torrentBytes(singleFileInfo(100));
    const meta = parseTorrent(bytes);
    const before = Buffer.from(meta.infoBytes);
    bytes.fill(0);
    assert.deepEqual(meta.infoBytes, before);
    assert.equal(meta.pieceHashes.readUInt32BE(0), 0);
    assert.equal(meta.pieceHashes.length, 20);
  });
});

describe('parseInfoDictionary (metadata from a magnet)', () => {
  test('hashes the given bytes and takes trackers and web seeds from extras', () => {
    const infoBytes = encode(multiFileInfo([{ path: ['a'], length: 70_000 }]));
    const meta = parseInfoDictionary(infoBytes, {
      announceTiers: [[TRACKER, TRACKER], ['']],
      webSeeds: ['http://127.0.0.1/ws'],
    });
    assert.equal(meta.infoHashHex, sha1Hex(infoBytes));
    assert.deepEqual(meta.announceTiers, [[TRACKER]]);
    assert.deepEqual(meta.webSeeds, ['http://127.0.0.1/ws']);
    assert.equal(meta.pieceCount, 5);
    assert.equal(meta.comment, undefined);
  });

  test('works without extras and on unsorted info bytes', () => {
    const raw = Buffer.concat([
      Buffer.from('d4:name5:a.txt6:lengthi100e12:piece lengthi16384e6:pieces20:'),
      Buffer.alloc(20),
      Buffer.from('e'),
    ]);
    const meta = parseInfoDictionary(raw);
    assert.equal(meta.infoHashHex, sha1Hex(raw));
    assert.deepEqual(meta.announceTiers, []);
  });

  test('rejects a non-dictionary and trailing bytes', () => {
    assert.throws(() => parseInfoDictionary(Buffer.from('le')), { code: 'LODESTONE_ERR_METAINFO' });
    const infoBytes = Buffer.concat([encode(singleFileInfo(100)), Buffer.from('x')]);
    assert.throws(() => parseInfoDictionary(infoBytes), /trailing data/);
  });
});
