import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  crc32c,
  ExternalIpVotes,
  isExemptFromSecureId,
  isSecureNodeId,
  secureNodeId,
} from '../../../src/dht/secure-id.js';
import { seededRandom } from '../../helpers/seeded-random.js';

/** The test vectors of BEP 42: IP, r, and the example node id given for them. */
const VECTORS: [string, number, string][] = [
  ['124.31.75.21', 1, '5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'],
  ['21.75.31.124', 86, '5a3ce9c14e7a08645677bbd1cfe7d8f956d53256'],
  ['65.23.51.170', 22, 'a5d43220bc8f112a3d426c84764f8c2a1150e616'],
  ['84.124.73.14', 65, '1b0321dd1bb1fe518101ceef99462b947a01ff41'],
  ['43.213.53.83', 90, 'e56f6cbf5b7c4be0237986d5243b87aa6d51305a'],
];

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
/** A "random" source that yields `bytes` (so the test picks r = the last byte). */
const fixed = (bytes: Uint8Array) => (length: number) => bytes.slice(0, length);

describe('BEP 42 secure node ids', () => {
  test('CRC32-C check value', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });

  for (const [ip, r, id] of VECTORS) {
    test(`vector ${ip}, r = ${r}: the published id verifies, and ours has the same 21-bit prefix`, () => {
      assert.ok(isSecureNodeId(hex(id), ip));
      const seed = new Uint8Array(20).fill(0x77);
      seed[19] = r;
      const ours = secureNodeId(ip, fixed(seed))!;
      const published = hex(id);
      assert.equal(ours[0], published[0]);
      assert.equal(ours[1], published[1]);
      assert.equal(ours[2]! & 0xf8, published[2]! & 0xf8);
      assert.equal(ours[19], r);
      assert.equal(ours[2]! & 0x07, 0x77 & 0x07, 'the low 3 bits of byte 2 stay random');
    });
  }

  test('an id with a wrong prefix, wrong r or for another IP does not verify', () => {
    assert.equal(isSecureNodeId(hex('5cbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'), '124.31.75.21'), false);
    assert.equal(isSecureNodeId(hex('5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee402'), '124.31.75.21'), false);
    assert.equal(isSecureNodeId(hex('5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'), '124.31.75.22'), false);
    // Only the masked bits count (0x03 of the first octet): 124 = 0x7c and 252 = 0xfc share them.
    assert.equal(isSecureNodeId(hex('5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'), '252.31.75.21'), true);
    assert.equal(isSecureNodeId(hex('5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401'), '21.75.31.124'), false);
    assert.equal(isSecureNodeId(new Uint8Array(19), '124.31.75.21'), false);
    // The 21st bit (byte 2, 0x08) counts; the 3 bits after it are free.
    const id = hex('5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401');
    id[2]! ^= 0x08;
    assert.equal(isSecureNodeId(id, '124.31.75.21'), false);
    id[2]! ^= 0x08 | 0x07;
    assert.equal(isSecureNodeId(id, '124.31.75.21'), true);
  });

  test('local, private and loopback addresses are exempt; public ones are not', () => {
    for (const host of [
      '10.1.2.3',
      '127.0.0.1',
      '192.168.0.9',
      '172.16.0.1',
      '172.31.255.1',
      '169.254.1.1',
      '::1',
      'fe80::1',
      'fd12::1',
      '::ffff:10.0.0.1',
    ]) {
      assert.ok(isExemptFromSecureId(host), host);
      assert.ok(isSecureNodeId(new Uint8Array(20), host), host);
    }
    for (const host of ['172.32.0.1', '8.8.8.8', '2001:db8::1', '::ffff:8.8.8.8', 'not-an-ip']) {
      assert.equal(isExemptFromSecureId(host), false, host);
      assert.equal(isSecureNodeId(new Uint8Array(20), host), false, host);
    }
  });

  test('property: a generated id verifies for its IP (IPv4, IPv6, IPv4-mapped)', () => {
    const random = seededRandom(9);
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (host) => {
        const id = secureNodeId(host, random);
        assert.ok(id && isSecureNodeId(id, host), host);
      }),
      { numRuns: 300 },
    );
    const id = secureNodeId('8.8.8.8', random)!;
    assert.ok(isSecureNodeId(id, '::ffff:8.8.8.8'));
    assert.equal(secureNodeId('example.com', random), undefined);
  });
});

describe('external IP from the votes of replying nodes', () => {
  test('believed once enough distinct voters agree', () => {
    const votes = new ExternalIpVotes({ minVotes: 3 });
    votes.vote('203.0.113.5', '198.51.100.1');
    votes.vote('203.0.113.5', '198.51.100.1');
    votes.vote('203.0.113.5', '198.51.100.1');
    assert.equal(votes.leader(), undefined, 'one voter voting thrice is one vote');
    votes.vote('203.0.113.5', '198.51.100.2');
    votes.vote('203.0.113.5', '198.51.100.3');
    assert.equal(votes.leader(), '203.0.113.5');
  });

  test('a tie is no answer; a voter changes its vote; the table is bounded', () => {
    const votes = new ExternalIpVotes({ minVotes: 1, maxVoters: 4 });
    votes.vote('203.0.113.5', 'a');
    votes.vote('203.0.113.6', 'b');
    assert.equal(votes.leader(), undefined);
    votes.vote('203.0.113.6', 'a');
    assert.equal(votes.leader(), '203.0.113.6');
    for (let i = 0; i < 100; i++) votes.vote('203.0.113.7', `v${i}`);
    assert.equal(votes.leader(), '203.0.113.7', 'old votes forgotten');
    votes.vote('not an ip', 'z');
    assert.equal(votes.leader(), '203.0.113.7');
    const recent = new ExternalIpVotes({ minVotes: 1, maxVoters: 3 });
    for (const voter of ['a', 'b', 'c']) recent.vote('203.0.113.1', voter);
    for (const voter of ['d', 'e']) recent.vote('203.0.113.2', voter);
    assert.equal(recent.leader(), '203.0.113.2', 'only the 3 latest voters count');
    assert.equal(votes.leader(), '203.0.113.7');
  });
});
