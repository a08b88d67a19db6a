import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatMagnet,
  type MagnetLink,
  parseMagnet,
  parseTorrent,
  toMagnetUri,
} from '../../../src/metainfo/index.js';
import { singleFileInfo, torrentBytes } from './torrent-builder.js';

const HEX = 'c12fe1c06bba254a9dc9f519b335aa7c1367a88a';
// The same 20 bytes in RFC 4648 base32.
const BASE32 = 'YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK';
const V2 = `1220${'ab'.repeat(32)}`;

function magnetError(message: RegExp) {
  return { code: 'LODESTONE_ERR_MAGNET', message };
}

describe('parseMagnet', () => {
  test('hex info-hash, name, trackers, web seeds', () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+File%20(1)` +
        '&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr.1=udp://127.0.0.1:6969&tr.2=udp://127.0.0.1:6969' +
        '&ws=http://127.0.0.1/seed/&xl=100&unknown=%zz',
    );
    assert.equal(link.infoHashHex, HEX);
    assert.deepEqual(link.infoHash, Buffer.from(HEX, 'hex'));
    assert.equal(link.name, 'My File (1)');
    assert.deepEqual(link.trackers, ['http://127.0.0.1:6969/announce', 'udp://127.0.0.1:6969']);
    assert.deepEqual(link.webSeeds, ['http://127.0.0.1/seed/']);
    assert.deepEqual(link.peers, []);
    assert.equal(link.v2Hash, undefined);
  });

  test('base32 info-hash, either case', () => {
    assert.equal(parseMagnet(`magnet:?xt=urn:btih:${BASE32}`).infoHashHex, HEX);
    assert.equal(parseMagnet(`MAGNET:?XT=URN:BTIH:${BASE32.toLowerCase()}`).infoHashHex, HEX);
  });

  test('v2 and hybrid magnets', () => {
    const v2only = parseMagnet(`magnet:?xt=urn:btmh:${V2.toUpperCase()}`);
    assert.equal(v2only.v2Hash, V2);
    assert.equal(v2only.infoHash, undefined);
    const hybrid = parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt=urn:btmh:${V2}&dn=x`);
    assert.equal(hybrid.infoHashHex, HEX);
    assert.equal(hybrid.v2Hash, V2);
  });

  test('x.pe keeps literal IPv4 and IPv6 addresses only', () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${HEX}&x.pe=127.0.0.1:6881&x.pe=%5B%3A%3A1%5D%3A6882&x.pe=[::1]:6882` +
        '&x.pe=localhost:1&x.pe=127.0.0.1:0&x.pe=127.0.0.1:70000&x.pe=garbage&x.pe.1=127.0.0.2:5',
    );
    assert.deepEqual(link.peers, [
      { host: '127.0.0.1', port: 6881 },
      { host: '::1', port: 6882 },
      { host: '127.0.0.2', port: 5 },
    ]);
  });

  test('other xt kinds are ignored when a BitTorrent one is present', () => {
    assert.equal(parseMagnet(`magnet:?xt=urn:sha1:ABC&xt=urn:btih:${HEX}`).infoHashHex, HEX);
  });

  test('errors', () => {
    assert.throws(() => parseMagnet('http://127.0.0.1/'), magnetError(/not a magnet link/));
    assert.throws(() => parseMagnet('magnet:'), magnetError(/not a magnet link/));
    assert.throws(() => parseMagnet('magnet:?dn=x'), magnetError(/no 'xt' parameter/));
    assert.throws(() => parseMagnet('magnet:?xt=urn:ed2k:abc'), magnetError(/no BitTorrent info-hash/));
    assert.throws(() => parseMagnet('magnet:?xt=urn:btih:abc'), magnetError(/bad info-hash "abc"/));
    assert.throws(() => parseMagnet(`magnet:?xt=urn:btih:${HEX}0`), magnetError(/40 hex or 32 base32/));
    assert.throws(() => parseMagnet(`magnet:?xt=urn:btih:${'g'.repeat(40)}`), magnetError(/bad info-hash/));
    assert.throws(() => parseMagnet(`magnet:?xt=urn:btih:${'1'.repeat(32)}`), magnetError(/bad info-hash/));
    assert.throws(
      () => parseMagnet(`magnet:?xt=urn:btmh:1114${'ab'.repeat(20)}`),
      magnetError(/SHA-256 multihash/),
    );
    assert.throws(
      () => parseMagnet(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`),
      magnetError(/percent-encoding in magnet parameter 'dn'/),
    );
    assert.throws(
      () => parseMagnet(`magnet:?xt=urn:btih:${HEX}&tr=%FF`),
      magnetError(/percent-encoding in magnet parameter 'tr'/),
    );
    assert.throws(
      () => parseMagnet('magnet:?xt=urn:btih:%zz'),
      magnetError(/percent-encoding in magnet parameter 'xt'/),
    );
    assert.throws(
      () => parseMagnet(`magnet:?xt=urn:btih:${HEX}&xt=urn:btih:${'0'.repeat(40)}`),
      magnetError(/two different info-hashes/),
    );
    assert.throws(
      () => parseMagnet('magnet:?xt=urn:btih:\x00'),
      (error: Error) => !/\x00/.test(error.message),
    );
  });
});

describe('magnet generation', () => {
  test('toMagnetUri carries hash, name, every tracker of every tier, web seeds', () => {
    const meta = parseTorrent(
      torrentBytes(singleFileInfo(100, { name: 'a b&c=d' }), {
        'announce-list': [['http://127.0.0.1:1/a?x=1&y=2'], ['udp://127.0.0.1:2', 'udp://127.0.0.1:3']],
        'url-list': 'http://127.0.0.1/ws',
      }),
    );
    const uri = toMagnetUri(meta);
    assert.match(uri, new RegExp(`^magnet:\\?xt=urn:btih:${meta.infoHashHex}&dn=a%20b%26c%3Dd&`));
    const back = parseMagnet(uri);
    assert.equal(back.infoHashHex, meta.infoHashHex);
    assert.equal(back.name, 'a b&c=d');
    assert.deepEqual(back.trackers, [
      'http://127.0.0.1:1/a?x=1&y=2',
      'udp://127.0.0.1:2',
      'udp://127.0.0.1:3',
    ]);
    assert.deepEqual(back.webSeeds, ['http://127.0.0.1/ws']);
  });

  test('formatMagnet and parseMagnet round-trip', () => {
    const link: MagnetLink = {
      infoHash: Buffer.from(HEX, 'hex'),
      infoHashHex: HEX,
      v2Hash: V2,
      name: 'Ünïcode ☃ + plus',
      trackers: ['http://127.0.0.1:6969/announce', 'udp://[::1]:1337'],
      peers: [
        { host: '127.0.0.1', port: 1 },
        { host: '::1', port: 65535 },
      ],
      webSeeds: ['http://127.0.0.1/a b'],
    };
    assert.deepEqual(parseMagnet(formatMagnet(link)), link);
  });
});
