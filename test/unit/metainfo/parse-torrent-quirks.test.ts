/**
 * parseTorrent on what libtorrent and Transmission accept although it is unusual: bytes after
 * the root dictionary, integers beyond 2^53, a creation date that is no time in seconds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { MetainfoError } from '../../../src/errors.js';
import { parseInfoDictionary, parseTorrent } from '../../../src/metainfo/index.js';
import { multiFileInfo, sha1Hex, singleFileInfo, TRACKER, torrentBytes } from './torrent-builder.js';

describe('parseTorrent: creation date', () => {
  test('a creation date in milliseconds or beyond 2^53 is accepted, ignored, and reported', () => {
    const latest = parseTorrent(torrentBytes(singleFileInfo(), { 'creation date': 253_402_300_799 }));
    assert.equal(latest.creationDate?.toISOString(), '9999-12-31T23:59:59.000Z');
    assert.deepEqual(latest.warnings, []);
    for (const date of [1_700_000_000_000, 1e15, 2n ** 53n, 2n ** 63n - 1n, 10n ** 20n - 1n]) {
      const info = singleFileInfo();
      const meta = parseTorrent(torrentBytes(info, { announce: TRACKER, 'creation date': date }));
      assert.equal(meta.creationDate, undefined, String(date));
      assert.equal(meta.infoHashHex, sha1Hex(encode(info)));
      assert.deepEqual(
        meta.warnings?.map((w) => w.code),
        ['LODESTONE_WARN_CREATION_DATE'],
      );
      assert.ok(meta.warnings?.[0]?.message.includes(String(date)));
    }
  });
});

describe('parseTorrent: bytes after the root dictionary', () => {
  const info = singleFileInfo(40_000);
  const clean = torrentBytes(info);

  test('a trailing newline is ignored: same info-hash and fields, one warning', () => {
    const meta = parseTorrent(Buffer.concat([clean, Buffer.from('\n')]));
    const reference = parseTorrent(clean);
    assert.equal(meta.infoHashHex, reference.infoHashHex);
    assert.equal(meta.infoHashHex, sha1Hex(encode(info)));
    assert.deepEqual(meta.infoBytes, reference.infoBytes);
    assert.deepEqual(meta.files, reference.files);
    assert.deepEqual(meta.announceTiers, reference.announceTiers);
    assert.deepEqual(reference.warnings, []);
    assert.deepEqual(meta.warnings, [
      {
        code: 'LODESTONE_WARN_TRAILING_DATA',
        message: "1 byte after the torrent's root dictionary was ignored",
      },
    ]);
  });

  test('trailing garbage of any kind is ignored too, also after an unsorted (lenient) dictionary', () => {
    for (const tail of ['\r\n', 'garbage', 'd4:infoi1ee', '\0\xff\xfe', 'e', ' '.repeat(5000)]) {
      const meta = parseTorrent(Buffer.concat([clean, Buffer.from(tail, 'latin1')]));
      assert.equal(meta.infoHashHex, sha1Hex(encode(info)), JSON.stringify(tail));
      assert.equal(meta.warnings?.[0]?.code, 'LODESTONE_WARN_TRAILING_DATA');
    }
    const unsorted = Buffer.concat([
      Buffer.from('d4:info'),
      encode(info),
      Buffer.from(`8:announce${TRACKER.length}:${TRACKER}e\n`),
    ]);
    assert.equal(parseTorrent(unsorted).infoHashHex, sha1Hex(encode(info)));
  });

  test('what is not a torrent is still refused', () => {
    const refuse = (input: string | Buffer, pattern: RegExp): void => {
      const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
      assert.throws(
        () => parseTorrent(bytes),
        (error: unknown) =>
          error instanceof MetainfoError &&
          error.code === 'LODESTONE_ERR_METAINFO' &&
          pattern.test(error.message),
        JSON.stringify(bytes.toString('latin1').slice(0, 40)),
      );
    };
    refuse('<html><body>Not found</body></html>\n', /not valid bencode: unexpected byte 0x3c at byte 0/);
    refuse('hello', /not valid bencode/);
    refuse('', /not valid bencode: unexpected end of data/);
    refuse(Buffer.concat([Buffer.from('\n'), clean]), /not valid bencode: unexpected byte 0x0a/);
    refuse('le\n', /not a bencoded dictionary/);
    refuse('i5e\n', /not a bencoded dictionary/);
    refuse('de\n', /'info' is missing/);
    refuse(clean.subarray(0, clean.length - 1), /not valid bencode: unterminated dictionary/);
    // The info dictionary's own bytes stay strict: a broken value inside it is no trailing data.
    refuse(Buffer.from('d4:infod6:lengthi01eee\n'), /leading zero/);
  });
});

describe('parseTorrent: integers beyond 2^53', () => {
  test('are accepted where nothing needs them, and the info-hash covers their exact bytes', () => {
    const info = singleFileInfo(40_000, { 'x-unknown': 2n ** 64n, 'x-list': [10n ** 19n, -(2n ** 60n)] });
    const bytes = torrentBytes(info, { announce: TRACKER, 'x-outer': 99_999_999_999_999_999_999n });
    const meta = parseTorrent(bytes);
    assert.equal(meta.infoHashHex, sha1Hex(encode(info)));
    assert.ok(meta.infoBytes.includes(Buffer.from('i18446744073709551616e')));
    assert.equal(meta.totalLength, 40_000);
    assert.deepEqual(meta.warnings, []);
    // The same info dictionary as bare metadata (BEP 9) too.
    assert.equal(parseInfoDictionary(encode(info)).infoHashHex, meta.infoHashHex);
  });

  test('are refused by name where a safe number is needed', () => {
    const refuse = (infoDict: Record<string, unknown>, field: string): void => {
      assert.throws(
        () => parseTorrent(torrentBytes(infoDict as never)),
        (error: unknown) =>
          error instanceof MetainfoError &&
          error.code === 'LODESTONE_ERR_METAINFO' &&
          error.message.startsWith(`'${field}' is too large (`) &&
          error.message.includes('beyond 2^53'),
        field,
      );
    };
    refuse(singleFileInfo(100, { length: 2n ** 53n }), 'info.length');
    refuse(singleFileInfo(100, { 'piece length': 2n ** 62n }), 'info.piece length');
    refuse(singleFileInfo(100, { private: 2n ** 60n }), 'info.private');
    refuse(singleFileInfo(100, { 'meta version': 2n ** 60n }), 'info.meta version');
    const files = multiFileInfo([
      { path: ['a'], length: 10 },
      { path: ['b'], length: 10 },
    ]);
    (files.files as Record<string, unknown>[])[1]!.length = -(2n ** 63n);
    refuse(files, 'info.files[1].length');
    // Where a string belongs, a big integer is just the wrong type.
    assert.throws(() => parseTorrent(torrentBytes(singleFileInfo(100, { name: 2n ** 60n }))), {
      code: 'LODESTONE_ERR_METAINFO',
      message: "'info.name' must be a string, not an integer",
    });
  });
});
