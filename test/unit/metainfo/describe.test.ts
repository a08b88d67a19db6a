import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeMagnet,
  describeTorrent,
  formatBytes,
  parseMagnet,
  parseTorrent,
} from '../../../src/metainfo/index.js';
import { multiFileInfo, TRACKER, torrentBytes } from './torrent-builder.js';

describe('formatBytes', () => {
  test('1024-based units with two decimals', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.00 KiB');
    assert.equal(formatBytes(1536 * 1024), '1.50 MiB');
    assert.equal(formatBytes(1024 ** 3 * 2.25), '2.25 GiB');
    assert.equal(formatBytes(1024 ** 4), '1.00 TiB');
    assert.equal(formatBytes(1024 * 1024 - 1), '1.00 MiB');
    assert.equal(formatBytes(-2048), '-2.00 KiB');
  });
});

describe('describeTorrent', () => {
  test('plain JSON with the fields lodestone info shows', () => {
    const meta = parseTorrent(
      torrentBytes(
        multiFileInfo(
          [
            { path: ['a', 'b.txt'], length: 100 },
            { path: ['.pad', '16284'], length: 16_284, attr: 'p' },
            { path: ['c'], length: 5 },
          ],
          { private: 1 },
        ),
        {
          announce: TRACKER,
          'creation date': 1_700_000_000,
          comment: 'hello',
          'url-list': 'http://127.0.0.1/',
        },
      ),
    );
    const described = describeTorrent(meta);
    assert.deepEqual(JSON.parse(JSON.stringify(described)), described, 'JSON round trip is lossless');
    assert.deepEqual(described, {
      name: 'folder',
      infoHash: meta.infoHashHex,
      totalLength: 16_389,
      pieceCount: 2,
      pieceLength: 16_384,
      private: true,
      trackers: [[TRACKER]],
      webSeeds: ['http://127.0.0.1/'],
      files: [
        { index: 0, path: 'folder/a/b.txt', length: 100 },
        { index: 2, path: 'folder/c', length: 5 }, // after a padding file: it counts
      ],
      renamedFiles: [],
      symlinks: [],
      creationDate: '2023-11-14T22:13:20.000Z',
      comment: 'hello',
      createdBy: null,
      version: 'v1',
      magnet: `magnet:?xt=urn:btih:${meta.infoHashHex}&dn=folder&tr=${encodeURIComponent(TRACKER)}&ws=${encodeURIComponent('http://127.0.0.1/')}`,
      warnings: [],
    });
  });

  test('warnings of an unusual but accepted torrent are listed', () => {
    const bytes = torrentBytes(multiFileInfo([{ path: ['a'], length: 100 }]), {
      announce: TRACKER,
      'creation date': 2n ** 60n,
    });
    const described = describeTorrent(parseTorrent(Buffer.concat([bytes, Buffer.from('\r\n')])));
    assert.deepEqual(JSON.parse(JSON.stringify(described)), described, 'JSON round trip is lossless');
    assert.equal(described.creationDate, null);
    assert.deepEqual(described.warnings, [
      {
        code: 'LODESTONE_WARN_CREATION_DATE',
        message: "'creation date' 1152921504606846976 is not a time in seconds; ignored",
      },
      {
        code: 'LODESTONE_WARN_TRAILING_DATA',
        message: "2 bytes after the torrent's root dictionary were ignored",
      },
    ]);
  });

  test('renamed files and symlinks (created or not) are listed; symlinks are not files', () => {
    const meta = parseTorrent(
      torrentBytes({
        name: 'folder',
        'piece length': 16_384,
        pieces: Buffer.alloc(20),
        files: [
          { length: 10, path: ['a\x1b'] },
          { length: 10, path: ['b'] },
          { attr: 'l', 'symlink path': ['b'], path: ['in'] },
          { attr: 'l', 'symlink path': ['..', 'x'], path: ['out'] },
        ],
      }),
    );
    const described = describeTorrent(meta);
    assert.deepEqual(described.files, [
      { index: 0, path: 'folder/a_', length: 10 },
      { index: 1, path: 'folder/b', length: 10 },
    ]);
    assert.deepEqual(described.renamedFiles, [{ path: 'folder/a_', originalPath: 'folder/a\x1b' }]);
    assert.deepEqual(described.symlinks, [
      { path: 'folder/in', target: 'folder/b', originalTarget: 'b' },
      { path: 'folder/out', target: null, originalTarget: '../x' },
    ]);
  });

  test('describeMagnet', () => {
    const hex = '0123456789abcdef0123456789abcdef01234567';
    assert.deepEqual(
      describeMagnet(parseMagnet(`magnet:?xt=urn:btih:${hex}&x.pe=[::1]:5&tr=udp://127.0.0.1:1`)),
      {
        infoHash: hex,
        v2Hash: null,
        name: null,
        trackers: ['udp://127.0.0.1:1'],
        webSeeds: [],
        peers: ['[::1]:5'],
      },
    );
  });
});
