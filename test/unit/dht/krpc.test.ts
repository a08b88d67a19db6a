import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encode } from '../../../src/bencode/index.js';
import { DhtError } from '../../../src/dht/errors.js';
import { decodeKrpc, encodeKrpc, MAX_KRPC_DATAGRAM } from '../../../src/dht/krpc.js';
import type { KrpcMessage } from '../../../src/dht/messages.js';
import { arbKrpcMessage } from '../../helpers/krpc-arbitrary.js';

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const ascii = (text: string): Uint8Array => bytes(text);

function malformed(datagram: Uint8Array | string, pattern?: RegExp): DhtError {
  let caught: unknown;
  try {
    decodeKrpc(typeof datagram === 'string' ? bytes(datagram) : datagram);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DhtError, `expected a DhtError, got ${String(caught)}`);
  assert.equal(caught.code, 'LODESTONE_ERR_DHT_MALFORMED');
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** The bencoded examples of BEP 5, and what they decode to; each encodes back to the same bytes. */
const BEP5: [string, KrpcMessage][] = [
  [
    'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe',
    { kind: 'query', method: 'ping', tid: ascii('aa'), id: ascii('abcdefghij0123456789'), readOnly: false },
  ],
  [
    'd1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re',
    { kind: 'response', tid: ascii('aa'), id: ascii('mnopqrstuvwxyz123456') },
  ],
  [
    'd1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee',
    { kind: 'error', tid: ascii('aa'), code: 201, message: 'A Generic Error Ocurred' },
  ],
  [
    'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe',
    {
      kind: 'query',
      method: 'find_node',
      tid: ascii('aa'),
      id: ascii('abcdefghij0123456789'),
      readOnly: false,
      target: ascii('mnopqrstuvwxyz123456'),
    },
  ],
  [
    'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:aa1:y1:qe',
    {
      kind: 'query',
      method: 'get_peers',
      tid: ascii('aa'),
      id: ascii('abcdefghij0123456789'),
      readOnly: false,
      infoHash: ascii('mnopqrstuvwxyz123456'),
    },
  ],
  [
    'd1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re',
    {
      kind: 'response',
      tid: ascii('aa'),
      id: ascii('abcdefghij0123456789'),
      token: ascii('aoeusnth'),
      values: [
        { host: '97.120.106.101', port: 0x2e75 },
        { host: '105.100.104.116', port: 0x6e6d },
      ],
    },
  ],
  [
    'd1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe',
    {
      kind: 'query',
      method: 'announce_peer',
      tid: ascii('aa'),
      id: ascii('abcdefghij0123456789'),
      readOnly: false,
      infoHash: ascii('mnopqrstuvwxyz123456'),
      port: 6881,
      impliedPort: true,
      token: ascii('aoeusnth'),
    },
  ],
];

describe('KRPC codec (BEP 5)', () => {
  for (const [wire, message] of BEP5) {
    test(`BEP 5 example ${wire.slice(0, 40)}…`, () => {
      assert.deepEqual(decodeKrpc(bytes(wire)), message);
      assert.equal(Buffer.from(encodeKrpc(message)).toString('latin1'), wire);
    });
  }

  test('the BEP\'s placeholder nodes ("def456...", 9 bytes) are not compact node info', () => {
    malformed('d1:rd2:id20:0123456789abcdefghij5:nodes9:def456...e1:t2:aa1:y1:re', /not a multiple of 26/);
  });

  test('unknown keys are ignored, unknown methods read as unknown queries', () => {
    const message = decodeKrpc(
      encode({
        t: 'xy',
        y: 'q',
        q: 'vote',
        a: { id: 'abcdefghij0123456789', extra: [1, { deep: 'x' }] },
        z: 5,
      }),
    );
    assert.equal(message.kind, 'query');
    assert.equal(message.kind === 'query' && message.method, 'unknown');
    assert.equal(message.kind === 'query' && message.method === 'unknown' && message.name, 'vote');
  });

  test('BEP 32 want, BEP 43 ro, BEP 42 ip and v', () => {
    const query = decodeKrpc(
      encode({
        t: 'aa',
        y: 'q',
        q: 'find_node',
        ro: 1,
        v: 'LS01',
        a: { id: 'abcdefghij0123456789', target: 'mnopqrstuvwxyz123456', want: ['n4', 'n6', 'n9', 7] },
      }),
    );
    assert.ok(query.kind === 'query' && query.method === 'find_node');
    assert.deepEqual(query.want, ['n4', 'n6']);
    assert.equal(query.readOnly, true);
    assert.deepEqual(query.version, ascii('LS01'));
    const response = decodeKrpc(
      encode({
        t: 'aa',
        y: 'r',
        ip: Uint8Array.of(127, 0, 0, 1, 0x1a, 0xe1),
        r: { id: 'mnopqrstuvwxyz123456' },
      }),
    );
    assert.deepEqual(response.kind === 'response' && response.ip, { host: '127.0.0.1', port: 6881 });
    // An `ip` of another length is advisory: ignored, not fatal.
    const odd = decodeKrpc(encode({ t: 'aa', y: 'r', ip: 'xyz', r: { id: 'mnopqrstuvwxyz123456' } }));
    assert.equal(odd.kind === 'response' && odd.ip, undefined);
  });

  test('values may mix IPv4 (6 bytes) and IPv6 (18 bytes); other lengths and port 0 are skipped', () => {
    const v6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0, 80);
    const message = decodeKrpc(
      encode({
        t: 'aa',
        y: 'r',
        r: {
          id: 'mnopqrstuvwxyz123456',
          values: [Uint8Array.of(1, 2, 3, 4, 0, 1), v6, 'seven!!', Uint8Array.of(1, 2, 3, 4, 0, 0), 3],
        },
      }),
    );
    assert.deepEqual(message.kind === 'response' && message.values, [
      { host: '1.2.3.4', port: 1 },
      { host: '2001:db8::1', port: 80 },
    ]);
  });

  test('announce_peer: port 1–65535 unless implied_port; token required', () => {
    const announce = (args: Record<string, string | number>): Uint8Array =>
      encode({
        t: 'aa',
        y: 'q',
        q: 'announce_peer',
        a: { id: 'abcdefghij0123456789', info_hash: 'mnopqrstuvwxyz123456', ...args },
      });
    malformed(announce({ port: 0, token: 'x' }), /port/);
    malformed(announce({ port: 65536, token: 'x' }), /port/);
    malformed(announce({ port: 80 }), /token/);
    const implied = decodeKrpc(announce({ implied_port: 1, token: 'x' }));
    assert.ok(implied.kind === 'query' && implied.method === 'announce_peer');
    assert.equal(implied.impliedPort, true);
    assert.equal(implied.port, 0);
  });

  test('ids must be 20 bytes; a bad query keeps its tid so it can be answered with 203', () => {
    const error = malformed(encode({ t: 'q1', y: 'q', q: 'ping', a: { id: 'short' } }), /"id"/);
    assert.deepEqual(error.queryTid, ascii('q1'));
    malformed(
      encode({ t: 'aa', y: 'q', q: 'get_peers', a: { id: 'abcdefghij0123456789', info_hash: 'x' } }),
      /info_hash/,
    );
    malformed(encode({ t: 'aa', y: 'r', r: { id: 'abcdefghij012345678' } }), /"id"/);
    const response = malformed(encode({ t: 'r1', y: 'r', r: { id: 'x' } }));
    assert.equal(response.queryTid, undefined, 'a reply is never answered');
  });

  test('transaction ids are bounded, and required', () => {
    malformed(encode({ t: 'x'.repeat(17), y: 'r', r: { id: 'abcdefghij0123456789' } }), /transaction id/);
    malformed(encode({ y: 'r', r: { id: 'abcdefghij0123456789' } }), /transaction id/);
    assert.equal(
      decodeKrpc(encode({ t: 'x'.repeat(16), y: 'r', r: { id: 'abcdefghij0123456789' } })).tid.length,
      16,
    );
  });

  test('not a dictionary, bad y, missing parts, trailing bytes and oversized datagrams are malformed', () => {
    malformed('le');
    malformed('d1:t2:aa1:y1:xe', /"y"/);
    malformed('d1:t2:aa1:y1:qe', /method/);
    malformed('d1:q4:ping1:t2:aa1:y1:qe', /arguments/);
    malformed('d1:t2:aa1:y1:re', /"r"/);
    malformed('d1:t2:aa1:y1:ee', /error/);
    malformed('d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:rex', /bencoded/);
    malformed(new Uint8Array(MAX_KRPC_DATAGRAM + 1), /more than/);
    malformed('d1:t2:aa1:y1:r1:rd2:id20:mnopqrstuvwxyz1234566:valuesi3eee', /values/);
  });

  test('error texts lose control characters and are bounded', () => {
    const message = decodeKrpc(encode({ t: 'aa', y: 'e', e: [203, `bad\r\n${'x'.repeat(1000)}`] }));
    assert.ok(message.kind === 'error');
    assert.equal(message.code, 203);
    assert.ok(message.message.startsWith('bad  x'));
    assert.equal(message.message.length, 256);
  });

  test('property: encode then decode is the identity', () => {
    fc.assert(
      fc.property(arbKrpcMessage, (message) => {
        assert.deepEqual(decodeKrpc(encodeKrpc(message)), message);
      }),
      { numRuns: 300 },
    );
  });

  test('property: random bytes and mutated messages throw nothing but DhtError', () => {
    const mutated = fc
      .tuple(arbKrpcMessage, fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([message, at, value]) => {
        const datagram = Uint8Array.from(encodeKrpc(message));
        datagram[at % datagram.length] = value;
        return datagram;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (datagram) => {
        try {
          decodeKrpc(datagram);
        } catch (error) {
          assert.ok(error instanceof DhtError, `unexpected ${String(error)}`);
        }
      }),
      { numRuns: 500 },
    );
  });
});
