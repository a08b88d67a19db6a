import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { TrackerError } from '../../../src/errors.js';
import { MAX_PEERS_PER_ANSWER, parseCompactPeers } from '../../../src/tracker/announce-common.js';
import {
  buildAnnounceUrl,
  parseHttpAnnounceResponse,
  percentEncodeBytes,
} from '../../../src/tracker/http-tracker.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';

function request(overrides: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash: Buffer.from('00ff7e2d2e5f41207a3a2f3f26253d2b0a0d0e10', 'hex'),
    peerId: Buffer.from('-LS0001-abcdefghijkl'),
    port: 6881,
    uploaded: 10,
    downloaded: 20,
    left: 30,
    key: 0xdeadbeef,
    ...overrides,
  };
}

function query(url: string): Map<string, string> {
  const text = url.slice(url.indexOf('?') + 1);
  return new Map(
    text.split('&').map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)] as [string, string];
    }),
  );
}

describe('percentEncodeBytes', () => {
  test('keeps unreserved bytes and escapes every other byte as upper-case %XX', () => {
    const bytes = Buffer.from([0x00, 0x41, 0x7a, 0x39, 0x2d, 0x2e, 0x5f, 0x7e, 0x20, 0x2b, 0x26, 0x25, 0xff]);
    assert.equal(percentEncodeBytes(bytes), '%00Az9-._~%20%2B%26%25%FF');
  });

  test('round-trips all 256 byte values through decodeURIComponent-free percent decoding', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const encoded = percentEncodeBytes(all);
    const decoded = Buffer.from(
      encoded.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      'latin1',
    );
    assert.deepEqual(decoded, all);
  });
});

describe('buildAnnounceUrl', () => {
  test('encodes info_hash and peer_id as raw bytes and adds all BEP 3 fields', () => {
    const url = buildAnnounceUrl('http://tracker.test/announce', request({ event: 'started', numwant: 80 }));
    assert.ok(url.startsWith('http://tracker.test/announce?info_hash='));
    const params = query(url);
    assert.equal(params.get('info_hash'), '%00%FF~-._A%20z%3A%2F%3F%26%25%3D%2B%0A%0D%0E%10');
    assert.equal(params.get('peer_id'), '-LS0001-abcdefghijkl');
    assert.equal(params.get('port'), '6881');
    assert.equal(params.get('uploaded'), '10');
    assert.equal(params.get('downloaded'), '20');
    assert.equal(params.get('left'), '30');
    assert.equal(params.get('compact'), '1');
    assert.equal(params.get('numwant'), '80');
    assert.equal(params.get('key'), 'deadbeef');
    assert.equal(params.get('event'), 'started');
    assert.equal(params.has('trackerid'), false);
  });

  test('omits event for a regular announce and defaults numwant to 50', () => {
    const params = query(buildAnnounceUrl('http://t.test/a', request()));
    assert.equal(params.has('event'), false);
    assert.equal(params.get('numwant'), '50');
  });

  test('appends with & when the announce URL already has a query, and drops a fragment', () => {
    const url = buildAnnounceUrl('http://t.test/announce.php?passkey=abc#frag', request());
    assert.ok(url.startsWith('http://t.test/announce.php?passkey=abc&info_hash='));
    assert.ok(!url.includes('#'));
    const trailing = buildAnnounceUrl('http://t.test/a?x=1&', request());
    assert.ok(trailing.startsWith('http://t.test/a?x=1&info_hash='));
  });

  test('sends the tracker id back byte for byte', () => {
    const trackerId = Buffer.from([0x61, 0x20, 0xff, 0x26]).toString('latin1');
    const params = query(buildAnnounceUrl('http://t.test/a', request(), trackerId));
    assert.equal(params.get('trackerid'), 'a%20%FF%26');
  });

  test('writes sane numbers for huge or invalid counters and pads the key', () => {
    const params = query(
      buildAnnounceUrl(
        'http://t.test/a',
        request({ left: 2 ** 40, uploaded: Number.NaN, downloaded: -5, key: 1 }),
      ),
    );
    assert.equal(params.get('left'), String(2 ** 40));
    assert.equal(params.get('uploaded'), '0');
    assert.equal(params.get('downloaded'), '0');
    assert.equal(params.get('key'), '00000001');
  });
});

describe('parseHttpAnnounceResponse', () => {
  const compactPeers = Buffer.from([10, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 2, 0x00, 0x50]);

  test('reads compact peers, counters and intervals', () => {
    const body = encode({
      interval: 1800,
      'min interval': 900,
      complete: 3,
      incomplete: 7,
      peers: compactPeers,
    });
    assert.deepEqual(parseHttpAnnounceResponse(body), {
      interval: 1800,
      minInterval: 900,
      seeders: 3,
      leechers: 7,
      peers: [
        { host: '10.0.0.1', port: 6881 },
        { host: '127.0.0.2', port: 80 },
      ],
    });
  });

  test('reads the dictionary peer model (BEP 3), dropping host names and bad ports', () => {
    const body = encode({
      interval: 600,
      peers: [
        { ip: '192.168.1.5', port: 51413, 'peer id': Buffer.alloc(20, 1) },
        { ip: '2001:DB8:0:0::1', port: 6881 },
        { ip: 'tracker.example', port: 6881 },
        { ip: '10.0.0.9', port: 0 },
        { ip: '10.0.0.9', port: 70000 },
        { port: 1 },
        'not a dict',
      ],
    });
    assert.deepEqual(parseHttpAnnounceResponse(body).peers, [
      { host: '192.168.1.5', port: 51413 },
      { host: '2001:db8::1', port: 6881 },
    ]);
  });

  test('reads peers6 (18-byte entries) and merges with peers', () => {
    const v6 = Buffer.alloc(36);
    v6[15] = 1; // ::1
    v6.writeUInt16BE(6881, 16);
    Buffer.from('20010db8000000000000000000000002', 'hex').copy(v6, 18);
    v6.writeUInt16BE(443, 34);
    const response = parseHttpAnnounceResponse(encode({ interval: 100, peers: compactPeers, peers6: v6 }));
    assert.deepEqual(response.peers, [
      { host: '10.0.0.1', port: 6881 },
      { host: '127.0.0.2', port: 80 },
      { host: '::1', port: 6881 },
      { host: '2001:db8::2', port: 443 },
    ]);
  });

  test('drops port 0, unspecified, broadcast and multicast addresses, and deduplicates', () => {
    const peers = Buffer.from([
      ...[10, 0, 0, 1, 0, 0],
      ...[0, 0, 0, 0, 0, 80],
      ...[255, 255, 255, 255, 0, 80],
      ...[239, 1, 2, 3, 0, 80],
      ...[10, 0, 0, 1, 0, 80],
      ...[10, 0, 0, 1, 0, 80],
    ]);
    assert.deepEqual(parseHttpAnnounceResponse(encode({ interval: 100, peers })).peers, [
      { host: '10.0.0.1', port: 80 },
    ]);
  });

  test('turns IPv4-mapped IPv6 into IPv4 and ignores a trailing partial entry', () => {
    const v6 = Buffer.from('00000000000000000000ffff0a000001', 'hex');
    const body = encode({
      interval: 100,
      peers: Buffer.from([10, 0, 0, 1, 0, 80, 1, 2, 3]),
      peers6: Buffer.concat([v6, Buffer.from([0, 80])]),
    });
    assert.deepEqual(parseHttpAnnounceResponse(body).peers, [{ host: '10.0.0.1', port: 80 }]);
  });

  test('throws TrackerError carrying the failure reason', () => {
    const body = encode({ 'failure reason': 'Requested download is not authorized' });
    assert.throws(
      () => parseHttpAnnounceResponse(body),
      (error: unknown) =>
        error instanceof TrackerError &&
        error.code === 'LODESTONE_ERR_TRACKER' &&
        error.message.includes('Requested download is not authorized'),
    );
  });

  test('keeps the warning message and tracker id', () => {
    const response = parseHttpAnnounceResponse(
      encode({
        interval: 100,
        peers: Buffer.alloc(0),
        'warning message': 'be nice\nnow',
        'tracker id': 'T1',
      }),
    );
    assert.equal(response.warning, 'be nice now');
    assert.equal(response.trackerId, 'T1');
    assert.deepEqual(response.peers, []);
  });

  test('defaults a missing interval to 1800 and clamps absurd ones', () => {
    assert.equal(parseHttpAnnounceResponse(encode({ peers: Buffer.alloc(0) })).interval, 1800);
    assert.equal(parseHttpAnnounceResponse(encode({ interval: 1 })).interval, 60);
    assert.equal(parseHttpAnnounceResponse(encode({ interval: -5 })).interval, 60);
    assert.equal(parseHttpAnnounceResponse(encode({ interval: 10 ** 9 })).interval, 86_400);
    assert.equal(parseHttpAnnounceResponse(encode({ interval: 'soon' })).interval, 1800);
    const negatives = parseHttpAnnounceResponse(encode({ interval: 100, 'min interval': -1, complete: -3 }));
    assert.equal(negatives.minInterval, 0);
    assert.equal(negatives.seeders, undefined);
  });

  test('accepts unsorted keys (many trackers emit them)', () => {
    const body = Buffer.from('d8:intervali900e5:peers0:8:completei1ee');
    assert.equal(parseHttpAnnounceResponse(body).interval, 900);
  });

  test('a 60,000-entry dictionary peer list and 100,000 IPv6 peers (each fits 2 MiB) are capped', () => {
    // Issue 15: every list a tracker sizes is collected element by element, never spread.
    const parts = ['d8:intervali900e5:peersl'];
    for (let i = 0; i < 60_000; i++) {
      const ip = `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`;
      parts.push(`d2:ip${ip.length}:${ip}4:porti6881ee`);
    }
    parts.push('ee');
    const fromDicts = parseHttpAnnounceResponse(Buffer.from(parts.join('')));
    assert.equal(fromDicts.peers.length, MAX_PEERS_PER_ANSWER);
    assert.deepEqual(fromDicts.peers[0], { host: '10.0.0.0', port: 6881 });
    const six = Buffer.alloc(100_000 * 18);
    for (let i = 0; i < 100_000; i++) {
      six.writeUInt16BE(0x2001, i * 18);
      six.writeUInt32BE(i + 1, i * 18 + 12);
      six.writeUInt16BE(6881, i * 18 + 16);
    }
    const fromSix = parseHttpAnnounceResponse(encode({ interval: 900, peers6: six }));
    assert.equal(fromSix.peers.length, MAX_PEERS_PER_ANSWER);
    assert.deepEqual(fromSix.peers[0], { host: '2001::1', port: 6881 });
  });

  test('the peer cap counts distinct peers: duplicates do not use it up', () => {
    const entry = Buffer.from([10, 0, 0, 1, 0x1a, 0xe1]);
    const other = Buffer.from([10, 0, 0, 2, 0x1a, 0xe1]);
    const bytes = Buffer.concat([...Array.from({ length: 10 }, () => entry), other]);
    assert.deepEqual(parseCompactPeers(bytes, 4, 2), [
      { host: '10.0.0.1', port: 6881 },
      { host: '10.0.0.2', port: 6881 },
    ]);
  });

  test('rejects bodies that are not a bencoded dictionary', () => {
    for (const text of ['<html>502 Bad Gateway</html>', '', 'li1ee', 'd8:intervali900e', 'i5e']) {
      assert.throws(() => parseHttpAnnounceResponse(Buffer.from(text)), TrackerError, text);
    }
  });
});
