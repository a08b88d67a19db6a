/**
 * BEP 52 hybrids: real ones made by libtorrent (test/fixtures/hybrid, see make-hybrid.py) parse
 * with libtorrent's v1 info-hash; the same torrents with their halves made to disagree (edited
 * as decoded dictionaries and re-encoded) are refused with a MetainfoError naming the difference.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type BencodeDict, type BencodeValue, decode, encode } from '../../../src/bencode/index.js';
import { MetainfoError } from '../../../src/errors.js';
import { assertHybridHalvesAgree, MAX_FILE_TREE_DEPTH } from '../../../src/metainfo/hybrid-check.js';
import { parseTorrent } from '../../../src/metainfo/index.js';

/** dist/test/unit/metainfo → the repository's test/fixtures/hybrid. */
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/hybrid/', import.meta.url));
const MULTI = 'hybrid-multi.torrent';
const SINGLE = 'hybrid-single.torrent';
const NO_TAIL = 'hybrid-multi-no-tail-padding.torrent';

interface Expected {
  v1: string;
  files: { path: string; length: number }[];
}
const expected = JSON.parse(readFileSync(`${FIXTURES}expected.json`, 'utf8')) as Record<string, Expected>;

function fixture(name: string): Buffer {
  return readFileSync(FIXTURES + name);
}

/** Decodes a fixture, lets `edit` change its info dictionary, re-encodes the whole torrent. */
function tampered(name: string, edit: (info: BencodeDict) => void): Buffer {
  const root = decode(fixture(name)) as BencodeDict;
  edit(root.get('info') as BencodeDict);
  return encode(root);
}

function dictAt(dict: BencodeDict, ...keys: string[]): BencodeDict {
  let node = dict;
  for (const key of keys) node = node.get(key) as BencodeDict;
  assert.ok(node instanceof Map, keys.join('/'));
  return node;
}

const v2File = (length: number, extra: Record<string, BencodeValue> = {}): BencodeDict =>
  new Map([
    [
      '',
      new Map<string, BencodeValue>([
        ['length', length],
        ['pieces root', Buffer.alloc(32, 9)],
        ...Object.entries(extra),
      ]),
    ],
  ]);

function assertRefused(bytes: Buffer, ...fragments: string[]): void {
  assert.throws(
    () => parseTorrent(bytes),
    (error: unknown) => {
      assert.ok(error instanceof MetainfoError, String(error));
      assert.equal(error.code, 'LODESTONE_ERR_METAINFO');
      for (const fragment of fragments) {
        assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      }
      return true;
    },
  );
}

describe('real hybrid torrents made by libtorrent', () => {
  for (const name of [MULTI, SINGLE, NO_TAIL]) {
    test(`${name}: hybrid, libtorrent's v1 info-hash, the same files`, () => {
      const meta = parseTorrent(fixture(name));
      assert.equal(meta.version, 'hybrid');
      assert.equal(meta.infoHashHex, expected[name]!.v1);
      assert.deepEqual(
        meta.files
          .filter((file) => !file.padding)
          .map((file) => ({ path: file.path.join('/'), length: file.length })),
        expected[name]!.files,
      );
      assert.deepEqual(meta.warnings, []);
    });
  }

  test('an empty file renamed in one half is tolerated (libtorrent ignores empty files too)', () => {
    const bytes = tampered(MULTI, (info) => {
      const tree = dictAt(info, 'file tree');
      const renamed = new Map(
        [...tree].map(([key, value]) => [key === 'empty.txt' ? 'empty2.txt' : key, value]),
      );
      info.set('file tree', renamed);
    });
    assert.equal(parseTorrent(bytes).version, 'hybrid');
  });
});

describe('hybrids whose halves disagree are refused, naming the first difference', () => {
  test('a file renamed in the v2 tree', () => {
    const bytes = tampered(MULTI, (info) => {
      const sub = dictAt(info, 'file tree', 'sub');
      sub.set('d.dat', sub.get('c.dat')!);
      sub.delete('c.dat');
    });
    assertRefused(
      bytes,
      "hybrid torrent's v1 and v2 file lists disagree",
      "file 4 is 'hybrid-sample/sub/c.dat' (5 bytes) in v1 but 'hybrid-sample/sub/d.dat' (5 bytes) in v2",
    );
  });

  test('a file renamed in the v1 list', () => {
    const bytes = tampered(MULTI, (info) => {
      const first = (info.get('files') as BencodeDict[])[0]!;
      first.set('path', [Buffer.from('z.txt')]);
    });
    assertRefused(
      bytes,
      "file 1 is 'hybrid-sample/z.txt' (20000 bytes) in v1 but 'hybrid-sample/a.txt' (20000 bytes) in v2",
    );
  });

  test('a length changed in the v2 tree', () => {
    const bytes = tampered(MULTI, (info) => {
      const spec = dictAt(info, 'file tree', 'sub', 'b.bin', '');
      spec.set('length', 40_000);
    });
    assertRefused(
      bytes,
      "file 3 is 'hybrid-sample/sub/b.bin' (40001 bytes) in v1 but 'hybrid-sample/sub/b.bin' (40000 bytes) in v2",
    );
  });

  test('a file missing from the v2 tree, or one too many', () => {
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub').delete('c.dat')),
      "the v2 file tree lists 3 files, the v1 list 4 (first missing: 'hybrid-sample/sub/c.dat')",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub').set('e.dat', v2File(7))),
      "the v2 file tree lists more than the 4 files of the v1 list (first extra: 'hybrid-sample/sub/e.dat')",
    );
  });

  test('a v1 list without the padding files BEP 52 needs', () => {
    const bytes = tampered(MULTI, (info) => {
      const files = (info.get('files') as BencodeDict[]).filter((entry) => {
        const attr = entry.get('attr');
        return !(attr instanceof Uint8Array && attr.includes(0x70));
      });
      info.set('files', files);
      // 60006 bytes in 16 KiB pieces: 4 hashes instead of 6.
      info.set('pieces', (info.get('pieces') as Uint8Array).subarray(0, 4 * 20));
    });
    assertRefused(
      bytes,
      "file 3 'hybrid-sample/sub/b.bin' starts at byte 20000 in v1 but at byte 32768 in v2",
    );
  });

  test('a v1 list that ends in padding of the wrong size', () => {
    const bytes = tampered(NO_TAIL, (info) => {
      const files = info.get('files') as BencodeValue[];
      files.push(
        new Map<string, BencodeValue>([
          ['attr', Buffer.from('p')],
          ['length', 1],
          ['path', [Buffer.from('.pad'), Buffer.from('1')]],
        ]),
      );
    });
    assertRefused(bytes, 'the v1 files total 81926 bytes, the v2 layout 98304');
  });

  test('a single-file hybrid whose v2 file has another name', () => {
    const bytes = tampered(SINGLE, (info) => {
      const tree = dictAt(info, 'file tree');
      info.set('file tree', new Map([['other.bin', tree.get('hybrid-single.bin')!]]));
    });
    assertRefused(
      bytes,
      "file 1 is 'hybrid-single.bin' (50000 bytes) in v1 but 'other.bin' (50000 bytes) in v2",
    );
  });
});

describe('the v2 file tree is checked for shape, never trusted', () => {
  test('meta version 2 with pieces but no file tree', () => {
    assertRefused(
      tampered(MULTI, (info) => info.delete('file tree')),
      "hybrid torrent (meta version 2) has no 'info.file tree'",
    );
  });

  test('malformed trees and file entries give typed errors naming the place', () => {
    assertRefused(
      tampered(MULTI, (info) => info.set('file tree', [])),
      "'info.file tree' must be a dictionary",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree').set('a.txt', Buffer.from('x'))),
      "'info.file tree' entry 'hybrid-sample/a.txt': must be a dictionary",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin', '').set('length', 2n ** 60n)),
      "'info.file tree' entry 'hybrid-sample/sub/b.bin': 'length' is too large (1152921504606846976 is beyond 2^53)",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin', '').set('length', -1)),
      "'length' must be a non-negative integer",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin', '').delete('length')),
      "'info.file tree' entry 'hybrid-sample/sub/b.bin': 'length' is missing",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin', '').delete('pieces root')),
      "'info.file tree' entry 'hybrid-sample/sub/b.bin': 'pieces root' must be a 32-byte string",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin', '').set('attr', Buffer.from('p'))),
      'is a padding file, which a v2 file tree must not hold',
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin', '').set('attr', 5)),
      "'attr' must be a string",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub').set('', v2File(5))),
      "'info.file tree' entry 'hybrid-sample/sub/': has an empty name",
    );
    assertRefused(
      tampered(MULTI, (info) => dictAt(info, 'file tree', 'sub', 'b.bin').set('x', v2File(1))),
      "'info.file tree' entry 'hybrid-sample/sub/b.bin/': has an empty name",
    );
  });

  test('nesting deeper than the limit is refused without recursion', () => {
    let tree: BencodeDict = v2File(5);
    for (let i = 0; i < 10_000; i++) tree = new Map([['d', tree]]);
    const info: BencodeDict = new Map<string, BencodeValue>([
      ['name', Buffer.from('x')],
      [
        'files',
        [
          new Map<string, BencodeValue>([
            ['length', 5],
            ['path', [Buffer.from('d')]],
          ]),
        ],
      ],
      ['file tree', tree],
    ]);
    assert.throws(
      () => assertHybridHalvesAgree(info, 16_384),
      (error: unknown) =>
        error instanceof MetainfoError &&
        error.message.includes(`nests deeper than ${MAX_FILE_TREE_DEPTH} folders`),
    );
  });
});
