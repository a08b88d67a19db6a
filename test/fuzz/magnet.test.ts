import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatAddress } from '../../src/address.js';
import { LodestoneError } from '../../src/errors.js';
import { describeMagnet, formatMagnet, type MagnetLink, parseMagnet } from '../../src/metainfo/index.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

function valueOrMagnetError(uri: string): void {
  let link: MagnetLink;
  try {
    link = parseMagnet(uri);
  } catch (error) {
    if (error instanceof LodestoneError && error.code === 'LODESTONE_ERR_MAGNET') return;
    throw error;
  }
  assert.ok(link.infoHash !== undefined || link.v2Hash !== undefined);
  if (link.infoHash !== undefined) assert.equal(link.infoHash.length, 20);
  JSON.stringify(describeMagnet(link));
}

const HEX = '0123456789abcdef0123456789abcdef01234567';
const seed = `magnet:?xt=urn:btih:${HEX}&dn=a%20b&tr=http%3A%2F%2F127.0.0.1%2Fa&x.pe=127.0.0.1:1&ws=http://127.0.0.1/&xt=urn:btmh:1220${'0'.repeat(64)}`;

const parameterPiece = fc.oneof(
  fc.constantFrom('xt', 'dn', 'tr', 'tr.1', 'ws', 'x.pe', 'XT', '=', '&', '%', '%2', '%zz', '%C3', '+'),
  fc.constantFrom(
    'urn:btih:',
    'urn:btmh:',
    '1220',
    HEX,
    'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK',
    '[::1]:5',
    '1.2.3.4:5',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

test('arbitrary strings: a MagnetLink or a MagnetError', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
      valueOrMagnetError(text);
      valueOrMagnetError(`magnet:?${text}`);
    }),
    { numRuns },
  );
});

test('magnet-shaped strings built from parameter fragments', () => {
  fc.assert(
    fc.property(fc.array(parameterPiece, { maxLength: 20 }), (pieces) => {
      valueOrMagnetError(`magnet:?${pieces.join('')}`);
    }),
    { numRuns },
  );
});

test('mutated valid magnets', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }), fc.boolean()), {
        minLength: 1,
        maxLength: 5,
      }),
      (mutations) => {
        let text = seed;
        for (const [position, insert, replace] of mutations) {
          const at = position % (text.length + 1);
          text = text.slice(0, at) + insert + text.slice(replace ? at + insert.length : at);
        }
        valueOrMagnetError(text);
      },
    ),
    { numRuns },
  );
});

const peer = fc
  .tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65_535 }))
  .map(([host, port]) => ({ host, port }));

const magnetLink: fc.Arbitrary<MagnetLink> = fc
  .record({
    hash: fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: undefined }),
    v2: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
    name: fc.option(fc.string({ unit: 'grapheme', maxLength: 20 }), { nil: undefined }),
    trackers: fc.uniqueArray(fc.webUrl({ withQueryParameters: true, withFragments: true }), { maxLength: 4 }),
    webSeeds: fc.uniqueArray(fc.webUrl(), { maxLength: 3 }),
    peers: fc.uniqueArray(peer, { maxLength: 4, selector: formatAddress }),
  })
  .filter((r) => r.hash !== undefined || r.v2 !== undefined)
  .map((r) => {
    const link: MagnetLink = { trackers: r.trackers, webSeeds: r.webSeeds, peers: r.peers };
    if (r.hash !== undefined) {
      link.infoHash = Buffer.from(r.hash);
      link.infoHashHex = link.infoHash.toString('hex');
    }
    if (r.v2 !== undefined) link.v2Hash = `1220${Buffer.from(r.v2).toString('hex')}`;
    if (r.name !== undefined) link.name = r.name;
    return link;
  });

test('parseMagnet(formatMagnet(link)) gives the link back', () => {
  fc.assert(
    fc.property(magnetLink, (link) => {
      assert.deepEqual(parseMagnet(formatMagnet(link)), link);
    }),
    { numRuns },
  );
});
