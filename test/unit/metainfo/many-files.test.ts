/**
 * Issue 15, "Torrents with many files": the file list is decoded one entry at a time
 * (DecodeOptions.deferList); the parsed files are the same whether the list comes from a
 * torrent file or from a bare info dictionary (a magnet's metadata), and the same as the
 * list that was encoded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode, encode } from '../../../src/bencode/index.js';
import { parseInfoDictionary, parseTorrent } from '../../../src/metainfo/index.js';
import { manyFilePath, manyFileSize, writeManyFilesTorrent } from '../../helpers/many-files.js';

test('3,000 files (deep folders, empty files): every file, in order, at its offset', async () => {
  const count = 3000;
  const torrent = await writeManyFilesTorrent('/nonexistent', {
    count,
    pieceLength: 64 * 1024,
    writeContent: false,
  });
  const meta = parseTorrent(torrent);
  assert.equal(meta.files.length, count);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const file = meta.files[i]!;
    assert.deepEqual(file.path, ['many', ...manyFilePath(i)]);
    assert.equal(file.length, manyFileSize(i, 3072));
    assert.equal(file.offset, offset);
    assert.equal(file.padding, false);
    offset += file.length;
  }
  assert.equal(meta.totalLength, offset);
  const fromInfo = parseInfoDictionary(meta.infoBytes);
  assert.deepEqual(fromInfo.files, meta.files);
  assert.ok(fromInfo.infoHash.equals(meta.infoHash));
  // The info bytes are exactly those of the file (deferring changes nothing in them).
  assert.deepEqual(encode(decode(meta.infoBytes)), meta.infoBytes);
});

test('a malformed entry deep in a deferred file list names its index', () => {
  const files = Array.from({ length: 500 }, (_, i) => ({ length: 1, path: [`f${i}`] }));
  (files[321] as { length: unknown }).length = 'x';
  const torrent = encode({
    info: { name: 'm', 'piece length': 16384, pieces: Buffer.alloc(20), files },
  });
  assert.throws(() => parseTorrent(torrent), /'info\.files\[321\]\.length' must be an integer/);
});

test('a torrent of 250,000 files (over a million values) parses: the value limit is libtorrent’s 3,000,000', () => {
  const files = Array.from({ length: 250_000 }, (_, i) => ({ length: 1, path: ['d', `${i}`] }));
  const torrent = encode({
    info: { name: 'many', 'piece length': 16384, pieces: new Uint8Array(20 * 16), files },
  });
  const meta = parseTorrent(torrent);
  assert.equal(meta.files.length, 250_000);
  assert.deepEqual(meta.files[249_999]!.path, ['many', 'd', '249999']);
});
