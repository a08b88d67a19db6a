import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DhtError } from '../../../src/dht/errors.js';
import { decodeKrpc, encodeKrpc, MAX_KRPC_DATAGRAM } from '../../../src/dht/krpc.js';
import type { KrpcMessage, KrpcQuery, KrpcResponse, NodeContact } from '../../../src/dht/messages.js';
import { compareDistance } from '../../../src/dht/node-id.js';
import { QueryResponder, type ResponderOptions } from '../../../src/dht/responder.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { arbKrpcMessage } from '../../helpers/krpc-arbitrary.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const OWN = new Uint8Array(20).fill(0xaa);
const QUERIER = new Uint8Array(20).fill(0x11);
const HASH = new Uint8Array(20).fill(0x42);
const tid = Uint8Array.of(1, 2);
const from4 = { host: '198.51.100.7', port: 40000 };
const from6 = { host: '2001:db8::7', port: 40000 };

function contacts(family: 4 | 6, count: number): NodeContact[] {
  return Array.from({ length: count }, (_, i) => ({
    id: new Uint8Array(20).fill(i + 1),
    host: family === 4 ? `10.1.0.${i + 1}` : `fd00::${i + 1}`,
    port: 6881 + i,
  }));
}

function setup(overrides: Partial<ResponderOptions> = {}, verified = new Set<string>()) {
  const clock = new FakeClock();
  const table = { 4: contacts(4, 30), 6: contacts(6, 30) };
  const responder = new QueryResponder({
    clock,
    random: seededRandom(3),
    context: {
      ownId: () => OWN,
      closestNodes: (target, family, count) =>
        [...table[family]].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, count),
      isVerified: (host, port) => verified.has(`${host}:${port}`),
    },
    ...overrides,
  });
  return { clock, responder, table };
}

/** Answers `query` as it would arrive on the wire (its real encoded size) and checks the reply re-decodes. */
function ask(responder: QueryResponder, query: KrpcQuery, from = from4): KrpcMessage | undefined {
  const reply = responder.answer(query, from, encodeKrpc(query).length);
  if (reply) assert.deepEqual(decodeKrpc(encodeKrpc(reply)), reply);
  return reply;
}

const base = { kind: 'query' as const, tid, id: QUERIER, readOnly: false };
const getPeers = (want?: ('n4' | 'n6')[]): KrpcQuery => ({
  ...base,
  method: 'get_peers',
  infoHash: HASH,
  ...(want ? { want } : {}),
});
const announce = (token: Uint8Array, port = 6881, impliedPort = false): KrpcQuery => ({
  ...base,
  method: 'announce_peer',
  infoHash: HASH,
  port,
  impliedPort,
  token,
});

function response(reply: KrpcMessage | undefined): KrpcResponse {
  assert.ok(reply && reply.kind === 'response', `expected a response, got ${JSON.stringify(reply)}`);
  return reply;
}

describe('QueryResponder', () => {
  test("ping: our id, the tid echoed, and the querier's address (BEP 42 ip)", () => {
    const { responder } = setup();
    const reply = response(ask(responder, { ...base, method: 'ping' }));
    assert.deepEqual(reply.id, OWN);
    assert.deepEqual(reply.tid, tid);
    assert.deepEqual(reply.ip, from4);
  });

  test("find_node: the 8 closest of the querier's family, or of the families in want", () => {
    const verified = new Set([`${from4.host}:${from4.port}`, `${from6.host}:${from6.port}`]);
    const { responder, table } = setup({}, verified);
    const target = new Uint8Array(20).fill(3);
    const v4 = response(ask(responder, { ...base, method: 'find_node', target }));
    const expected = [...table[4]].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, 8);
    assert.deepEqual(v4.nodes, expected);
    assert.equal(v4.nodes6, undefined);
    const v6 = response(ask(responder, { ...base, method: 'find_node', target }, from6));
    assert.equal(v6.nodes6?.length, 8);
    assert.equal(v6.nodes, undefined);
    const both = response(ask(responder, { ...base, method: 'find_node', target, want: ['n4', 'n6'] }));
    assert.equal(both.nodes?.length, 8);
    assert.equal(both.nodes6?.length, 8);
  });

  test('get_peers then announce_peer then get_peers: the token works, the peer is handed out', () => {
    const { responder } = setup();
    const first = response(ask(responder, getPeers()));
    assert.ok(first.token && first.nodes && first.nodes.length > 0);
    assert.equal(first.values, undefined);
    const ack = response(ask(responder, announce(first.token, 51413)));
    assert.deepEqual(ack.id, OWN);
    assert.equal(responder.storedPeerCount(HASH), 1);
    const second = response(ask(responder, getPeers()));
    assert.deepEqual(second.values, [{ host: from4.host, port: 51413 }]);
    assert.equal(second.nodes, undefined);
  });

  test('announce_peer with implied_port stores the UDP source port', () => {
    const { responder } = setup();
    const { token } = response(ask(responder, getPeers()));
    response(ask(responder, announce(token!, 0, true)));
    assert.deepEqual(response(ask(responder, getPeers())).values, [from4]);
  });

  test('forged or stolen tokens are refused with error 203 and store nothing', () => {
    const { responder } = setup();
    const { token } = response(ask(responder, getPeers(), { host: '192.0.2.50', port: 1 }));
    for (const forged of [token!, new Uint8Array(8), Uint8Array.of(1, 2, 3, 4)]) {
      const reply = ask(responder, announce(forged));
      assert.ok(reply?.kind === 'error');
      assert.equal(reply.code, 203);
    }
    assert.equal(responder.storedPeerCount(), 0);
  });

  test('an unknown method gets error 204; a query the codec refused gets 203, a bad reply nothing', () => {
    const { responder } = setup();
    const reply = ask(responder, { ...base, method: 'unknown', name: 'vote' });
    assert.ok(reply?.kind === 'error');
    assert.equal(reply.code, 204);
    const bad = responder.answerMalformed(
      new DhtError('x', 'LODESTONE_ERR_DHT_MALFORMED', { queryTid: tid }),
      from4,
      60,
    );
    assert.equal(bad?.code, 203);
    assert.deepEqual(bad?.tid, tid);
    assert.equal(responder.answerMalformed(new DhtError('x'), from4, 60), undefined);
    const tiny = new DhtError('x', 'LODESTONE_ERR_DHT_MALFORMED', { queryTid: tid });
    assert.equal(
      responder.answerMalformed(tiny, from4, 10),
      undefined,
      'a 10-byte datagram gets no 60-byte error',
    );
  });

  test('read-only queriers are answered', () => {
    const { responder } = setup();
    assert.ok(response(ask(responder, { ...base, readOnly: true, method: 'ping' })));
  });

  test('a get_peers flood from one address is answered up to its rate, then silently dropped', () => {
    const { clock, responder } = setup({ rateLimit: { ratePerSecond: 5, burst: 20 } });
    let answered = 0;
    for (let i = 0; i < 1000; i++) if (ask(responder, getPeers())) answered++;
    assert.equal(answered, 20);
    assert.ok(ask(responder, getPeers(), { host: '192.0.2.1', port: 1 }), 'others still answered');
    clock.advance(1000);
    answered = 0;
    for (let i = 0; i < 1000; i++) if (ask(responder, getPeers())) answered++;
    assert.equal(answered, 5);
  });

  test('no amplification: an unverified querier gets at most 4x its query; a verified one the full reply', () => {
    const verified = new Set([`${from6.host}:${from6.port}`]);
    const { responder } = setup({ rateLimit: { burst: 1000 } }, verified);
    const query = getPeers(['n4', 'n6']);
    const size = encodeKrpc(query).length;
    const unverified = response(ask(responder, query, { host: '2001:db8::99', port: 5 }));
    assert.ok(encodeKrpc(unverified).length <= 4 * size, `${encodeKrpc(unverified).length} > 4 x ${size}`);
    assert.ok(unverified.token, 'the token is never trimmed');
    assert.ok((unverified.nodes6?.length ?? 0) + (unverified.nodes?.length ?? 0) > 0, 'still useful');
    const full = response(ask(responder, query, from6));
    assert.equal(full.nodes?.length, 8);
    assert.equal(full.nodes6?.length, 8);
  });

  test('many stored peers: values are trimmed to the budget, never beyond a datagram', () => {
    const verified = new Set([`${from4.host}:${from4.port}`]);
    const { responder } = setup(
      {
        rateLimit: { burst: 100_000, globalBurst: 100_000 },
        maxValues: 1000,
        peerStore: { maxPeersPerTorrent: 1000 },
      },
      verified,
    );
    for (let i = 0; i < 400; i++) {
      const peer = { host: `10.2.${i >> 8}.${i & 255}`, port: 1000 + i };
      const { token } = response(ask(responder, getPeers(), peer));
      response(ask(responder, announce(token!, peer.port), peer));
    }
    const full = response(ask(responder, getPeers()));
    assert.ok(encodeKrpc(full).length <= MAX_KRPC_DATAGRAM);
    assert.ok((full.values?.length ?? 0) > 100);
    const small = response(ask(responder, getPeers(), { host: '10.9.9.9', port: 9 }));
    assert.ok(encodeKrpc(small).length <= 4 * encodeKrpc(getPeers()).length);
    assert.ok((small.values?.length ?? 0) > 10);
  });

  test('contacts the routing table cannot encode are left out, not thrown', () => {
    const responder = new QueryResponder({
      clock: new FakeClock(),
      random: seededRandom(1),
      context: {
        ownId: () => OWN,
        closestNodes: () => [
          { id: QUERIER, host: '::1', port: 1 },
          { id: QUERIER, host: 'not-an-ip', port: 1 },
          { id: new Uint8Array(3), host: '10.0.0.1', port: 1 },
          { id: QUERIER, host: '10.0.0.2', port: 0 },
          { id: QUERIER, host: '10.0.0.3', port: 3 },
        ],
        isVerified: () => true,
      },
    });
    const reply = response(ask(responder, { ...base, method: 'find_node', target: HASH }));
    assert.deepEqual(reply.nodes, [{ id: QUERIER, host: '10.0.0.3', port: 3 }]);
  });

  test('a source that is not an IP literal is not answered', () => {
    const { responder } = setup();
    assert.equal(
      responder.answer({ ...base, method: 'ping' }, { host: 'example.com', port: 1 }, 50),
      undefined,
    );
  });

  test('memory stays bounded under an announce flood from many addresses', () => {
    const { responder } = setup({
      rateLimit: { globalBurst: 1e9, globalRatePerSecond: 1e9, maxTracked: 1000 },
      peerStore: { maxBytes: 256 * 1024 },
    });
    for (let i = 0; i < 5000; i++) {
      const peer = { host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1 + (i % 60000) };
      const infoHash = new Uint8Array(20).fill(i % 50);
      const reply = responder.answer({ ...base, method: 'get_peers', infoHash }, peer, 95);
      assert.ok(reply?.kind === 'response' && reply.token);
      responder.answer(
        { ...base, method: 'announce_peer', infoHash, port: 1, impliedPort: true, token: reply.token },
        peer,
        120,
      );
    }
    assert.ok(responder.memoryBytes() < 256 * 1024 + 1000 * 200, `memory ${responder.memoryBytes()}`);
    assert.ok(responder.storedPeerCount() > 500);
  });

  test('property: any query gets a reply that encodes within its budget, or silence', () => {
    const { responder } = setup({
      rateLimit: { burst: 1e9, ratePerSecond: 1e9, globalBurst: 1e9, globalRatePerSecond: 1e9 },
    });
    fc.assert(
      fc.property(
        arbKrpcMessage.filter((m): m is KrpcQuery => m.kind === 'query'),
        fc.boolean(),
        (query, v6) => {
          const size = encodeKrpc(query).length;
          const reply = responder.answer(query, v6 ? from6 : from4, size);
          assert.ok(reply, 'answered');
          assert.deepEqual(reply.tid, query.tid);
          assert.ok(
            encodeKrpc(reply).length <= Math.min(MAX_KRPC_DATAGRAM, 4 * size) || reply.kind === 'error',
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
