/**
 * A corpus of hostile and broken torrents, each built in the test with `encode`,
 * with the error code and message it must produce. None may crash, allocate
 * according to a declared size, or be accepted. Hostile file names are not
 * refused: they are rewritten (file-names.ts); hostile-names.test.ts checks
 * the exact names each one gets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Encodable } from '../../../src/bencode/index.js';
import { encode } from '../../../src/bencode/index.js';
import { type ErrorCode, LodestoneError } from '../../../src/errors.js';
import { parseInfoDictionary, parseTorrent } from '../../../src/metainfo/index.js';
import { multiFileInfo, singleFileInfo, torrentBytes } from './torrent-builder.js';

const INVALID: ErrorCode = 'LODESTONE_ERR_METAINFO';

interface HostileCase {
  name: string;
  bytes: Uint8Array;
  code: ErrorCode;
  message: string;
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
    message: "'info.length' is too large (1152921504606846976 is beyond 2^53)",
  },
  {
    name: 'declared length of 21 digits',
    bytes: withInfo({ length: 10n ** 20n }),
    code: INVALID,
    message: 'not valid bencode: integer too large',
  },
  {
    name: 'declared length 2^53 + 2',
    bytes: withInfo({ length: 2n ** 53n + 2n }),
    code: INVALID,
    message: "'info.length' is too large",
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
  // Bytes after the root dictionary are ignored (as libtorrent and Transmission do); what is before them still counts.
  { name: 'trailing garbage', bytes: Buffer.from('de!'), code: INVALID, message: "'info' is missing" },
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
