import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { type BencodeDict, decode, type Encodable, encode } from '../../src/bencode/index.js';
import { LodestoneError } from '../../src/errors.js';
import {
  describeTorrent,
  MAX_COMPONENT_BYTES,
  parseInfoDictionary,
  parseTorrent,
  pieceToFileRanges,
  type TorrentMetadata,
} from '../../src/metainfo/index.js';
import { multiFileInfo, singleFileInfo, torrentBytes } from '../unit/metainfo/torrent-builder.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

/** What sanitising guarantees for every component on every platform. */
function assertWritableComponent(component: string): void {
  assert.ok(component !== '' && component !== '.' && component !== '..', JSON.stringify(component));
  assert.doesNotMatch(component, /[/\\\x00-\x1f\x7f]/);
  assert.ok(Buffer.byteLength(component) <= MAX_COMPONENT_BYTES);
}

/** Whatever parses must be internally consistent; whatever fails must fail with a LodestoneError. */
function checkParse(parse: () => TorrentMetadata): void {
  let meta: TorrentMetadata;
  try {
    meta = parse();
  } catch (error) {
    if (error instanceof LodestoneError) return;
    throw error;
  }
  assert.equal(meta.infoHashHex, createHash('sha1').update(meta.infoBytes).digest('hex'));
  assert.equal(meta.pieceHashes.length, meta.pieceCount * 20);
  let offset = 0;
  for (const file of meta.files) {
    assert.equal(file.offset, offset);
    offset += file.length;
    for (const component of file.path) assertWritableComponent(component);
  }
  assert.equal(offset, meta.totalLength);
  assert.equal(meta.lastPieceLength, meta.totalLength - (meta.pieceCount - 1) * meta.pieceLength);
  const last = pieceToFileRanges(meta, meta.pieceCount - 1);
  assert.equal(
    last.reduce((sum, range) => sum + range.length, 0),
    meta.lastPieceLength,
  );
  JSON.stringify(describeTorrent(meta));
}

const seeds: Buffer[] = [
  torrentBytes(singleFileInfo(40_000, { private: 1 }), {
    announce: 'http://127.0.0.1/a',
    'announce-list': [['http://127.0.0.1/a'], ['udp://127.0.0.1:1']],
    'url-list': ['http://127.0.0.1/w'],
    comment: 'c',
    'creation date': 1,
  }),
  torrentBytes(
    multiFileInfo([
      { path: ['a', 'b'], length: 10 },
      { path: ['e'], length: 0 },
      { path: ['.pad', '16374'], length: 16_374, attr: 'p' },
      { path: ['c'], length: 20_000 },
    ]),
  ),
  // A real hybrid (libtorrent): mutations reach the v2 file tree check.
  readFileSync(fileURLToPath(new URL('../../../test/fixtures/hybrid/hybrid-multi.torrent', import.meta.url))),
];
const realHybrid = seeds[seeds.length - 1]!;

function mutate(
  bytes: Buffer,
  mutations: [number, number, 'set' | 'insert' | 'delete' | 'truncate'][],
): Buffer {
  const out = [...bytes];
  for (const [position, byte, kind] of mutations) {
    const at = out.length === 0 ? 0 : position % out.length;
    if (kind === 'set') out[at] = byte;
    else if (kind === 'insert') out.splice(at, 0, byte);
    else if (kind === 'delete') out.splice(at, 1);
    else out.length = at;
  }
  return Buffer.from(out);
}

const mutation = fc.tuple(
  fc.nat(),
  fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x2e, 0x2f, 0x5c, 0x00, 0x30, 0x65, 0x69, 0x6c, 0x64),
  ),
  fc.constantFrom('set' as const, 'insert' as const, 'delete' as const, 'truncate' as const),
);

test('arbitrary bytes: parseTorrent and parseInfoDictionary return metadata or a LodestoneError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      checkParse(() => parseTorrent(bytes));
      checkParse(() => parseInfoDictionary(bytes));
    }),
    { numRuns },
  );
});

test('mutated valid torrents: metadata or a LodestoneError', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      (seed, mutations) => {
        checkParse(() => parseTorrent(mutate(seed, mutations)));
      },
    ),
    { numRuns },
  );
});

/** Torrent-shaped dictionaries whose fields have random values and types. */
const anyLeaf: fc.Arbitrary<Encodable> = fc.oneof(
  fc.integer({ min: -2, max: 2 ** 20 }),
  fc.constantFrom(16_384, 32_768, 0, -1, 2 ** 52),
  fc.constantFrom(2n ** 53n, -(2n ** 63n), 2n ** 64n - 1n),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('..', '.', '', 'CON', 'a/b', 'x\0', 'ok', '.pad', 'p'),
  fc.uint8Array({ maxLength: 45 }),
);
const anyField: fc.Arbitrary<Encodable> = fc.oneof(
  anyLeaf,
  fc.array(anyLeaf, { maxLength: 4 }),
  fc.array(fc.array(anyLeaf, { maxLength: 3 }), { maxLength: 3 }),
);
const fileEntry = fc.record(
  { length: anyField, path: anyField, 'path.utf-8': anyField, attr: anyField },
  { requiredKeys: [] },
);
/** BEP 52 file trees: folders, leaves under the empty key, with random field values. */
const { node: fileTree } = fc.letrec<{ node: Encodable }>((tie) => ({
  node: fc.dictionary(
    fc.constantFrom('', 'a', 'sub', 'file.bin', 'a.txt', 'empty.txt', 'b.bin', 'c.dat'),
    fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.record(
        {
          length: fc.oneof(anyField, fc.constantFrom(10, 20_000, 40_000)),
          'pieces root': fc.oneof(anyField, fc.constant(Buffer.alloc(32, 1))),
          attr: anyField,
        },
        { requiredKeys: [] },
      ),
      tie('node'),
    ),
    { maxKeys: 4 },
  ),
}));

const infoDict = fc.record(
  {
    name: anyField,
    'name.utf-8': anyField,
    'piece length': anyField,
    pieces: fc.oneof(
      anyField,
      fc.nat(6).map((n) => Buffer.alloc(n * 20)),
    ),
    length: anyField,
    files: fc.oneof(anyField, fc.array(fc.oneof(fileEntry, anyLeaf), { maxLength: 5 })),
    private: anyField,
    'meta version': fc.oneof(anyField, fc.constant(2)),
    'file tree': fc.oneof(anyField, fileTree),
  },
  { requiredKeys: [] },
);

test('bytes after a valid torrent never change what it parses to, only add a warning', () => {
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.uint8Array({ minLength: 1, maxLength: 64 }), (seed, tail) => {
      const clean = parseTorrent(seed);
      const meta = parseTorrent(Buffer.concat([seed, tail]));
      assert.equal(meta.infoHashHex, clean.infoHashHex);
      assert.deepEqual(meta.files, clean.files);
      assert.deepEqual(
        meta.warnings?.map((w) => w.code),
        [...(clean.warnings ?? []).map((w) => w.code), 'LODESTONE_WARN_TRAILING_DATA'],
      );
    }),
    { numRuns },
  );
});

test('a real hybrid with a random v2 file tree: metadata or a LodestoneError', () => {
  fc.assert(
    fc.property(fileTree, fc.boolean(), (tree, keepRealSub) => {
      const root = decode(realHybrid) as BencodeDict;
      const info = root.get('info') as BencodeDict;
      const real = info.get('file tree') as BencodeDict;
      // Half the time the random tree keeps the real 'sub' folder, so it agrees in part.
      const mixed = keepRealSub ? { ...(tree as Record<string, Encodable>), sub: real.get('sub')! } : tree;
      info.set('file tree', mixed as BencodeDict);
      checkParse(() => parseTorrent(encode(root)));
    }),
    { numRuns },
  );
});

test('torrent-shaped dictionaries with random field types: metadata or a LodestoneError', () => {
  fc.assert(
    fc.property(
      infoDict,
      fc.record({ announce: anyField, 'announce-list': anyField, 'url-list': anyField }),
      (info, outer) => {
        checkParse(() => parseTorrent(torrentBytes(info as Encodable, outer)));
        checkParse(() => parseInfoDictionary(encode(info as Encodable)));
      },
    ),
    { numRuns },
  );
});
