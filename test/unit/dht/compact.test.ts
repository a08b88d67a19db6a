import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeCompactNodes,
  decodeCompactPeer,
  decodeCompactPeers,
  encodeCompactNodes,
  encodeCompactPeer,
  encodeCompactPeers,
  formatIp,
} from '../../../src/dht/compact.js';
import { DhtError } from '../../../src/dht/errors.js';

const id = (fill: number): Uint8Array => new Uint8Array(20).fill(fill);

describe('compact peer and node info (BEP 5, BEP 32)', () => {
  test('IPv4 peer: 4 address bytes then the port, big-endian', () => {
    const bytes = encodeCompactPeer({ host: '1.2.3.4', port: 6881 });
    assert.deepEqual([...bytes], [1, 2, 3, 4, 0x1a, 0xe1]);
    assert.deepEqual(decodeCompactPeer(bytes), { host: '1.2.3.4', port: 6881 });
  });

  test('the BEP 5 example values decode as addresses', () => {
    // "axje.u" = 97.120.106.101 port 0x2e75
    assert.deepEqual(decodeCompactPeer(new TextEncoder().encode('axje.u')), {
      host: '97.120.106.101',
      port: 0x2e75,
    });
  });

  test('IPv6 peer: 18 bytes, printed in RFC 5952 form', () => {
    const peer = { host: '2001:db8::1', port: 443 };
    const bytes = encodeCompactPeer(peer);
    assert.equal(bytes.length, 18);
    assert.deepEqual(decodeCompactPeer(bytes), peer);
    const text = (hex: string): string => formatIp(Buffer.from(hex, 'hex'), 0, 6);
    assert.equal(text('00000000000000000000000000000001'), '::1');
    assert.equal(text('20010db8000000010000000000000001'), '2001:db8:0:1::1');
    assert.equal(text('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
    assert.equal(text('00000000000000000000ffff7f000001'), '::ffff:127.0.0.1');
    assert.equal(text('20010db8000100020003000400050006'), '2001:db8:1:2:3:4:5:6');
  });

  test('a port of 0 or a wrong length reads as no peer', () => {
    assert.equal(decodeCompactPeer(Uint8Array.of(1, 2, 3, 4, 0, 0)), undefined);
    assert.equal(decodeCompactPeer(new Uint8Array(7)), undefined);
  });

  test('nodes: 26 bytes (IPv4) or 38 bytes (IPv6) each, round trip', () => {
    const v4 = [
      { id: id(1), host: '10.0.0.1', port: 1 },
      { id: id(2), host: '127.0.0.2', port: 65535 },
    ];
    const bytes = encodeCompactNodes(v4, 4);
    assert.equal(bytes.length, 52);
    assert.deepEqual(decodeCompactNodes(bytes, 4, 8), v4);
    const v6 = [{ id: id(3), host: 'fe80::1', port: 6881 }];
    assert.equal(encodeCompactNodes(v6, 6).length, 38);
    assert.deepEqual(decodeCompactNodes(encodeCompactNodes(v6, 6), 6, 8), v6);
  });

  test('a length that is not a multiple of the entry size is malformed', () => {
    assert.throws(() => decodeCompactNodes(new Uint8Array(27), 4, 8), DhtError);
    assert.throws(() => decodeCompactNodes(new Uint8Array(26), 6, 8), DhtError);
    assert.throws(() => decodeCompactPeers(new Uint8Array(7), 4, 8), DhtError);
  });

  test('more entries than allowed is malformed', () => {
    assert.throws(() => decodeCompactNodes(new Uint8Array(26 * 9), 4, 8), /more than 8/);
    assert.throws(() => decodeCompactPeers(new Uint8Array(6 * 3), 4, 2), /more than 2/);
  });

  test('encoding refuses what it cannot represent', () => {
    assert.throws(() => encodeCompactPeer({ host: 'example.com', port: 1 }), DhtError);
    assert.throws(() => encodeCompactPeer({ host: '1.2.3.4', port: 0 }), DhtError);
    assert.throws(() => encodeCompactNodes([{ id: id(1), host: '::1', port: 1 }], 4), DhtError);
    assert.throws(
      () => encodeCompactNodes([{ id: new Uint8Array(19), host: '1.1.1.1', port: 1 }], 4),
      DhtError,
    );
  });

  test('property: peers and nodes round-trip (IPv4 and IPv6)', () => {
    const port = fc.integer({ min: 1, max: 65535 });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ host: fc.ipV4(), port }).map((p) => ({ ...p })),
          { maxLength: 20 },
        ),
        (peers) => {
          assert.deepEqual(decodeCompactPeers(encodeCompactPeers(peers, 4), 4, 20), peers);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.uint8Array({ minLength: 20, maxLength: 20 }),
            raw: fc.uint8Array({ minLength: 16, maxLength: 16 }),
            port,
          }),
        ),
        (entries) => {
          const nodes = entries.map((e) => ({ id: e.id, host: formatIp(e.raw, 0, 6), port: e.port }));
          const bytes = encodeCompactNodes(nodes, 6);
          // Formatting is canonical: encoding the printed address gives back the same bytes.
          entries.forEach((e, i) => {
            assert.deepEqual(bytes.subarray(i * 38 + 20, i * 38 + 36), e.raw);
          });
          assert.deepEqual(decodeCompactNodes(bytes, 6, entries.length), nodes);
        },
      ),
    );
  });
});
