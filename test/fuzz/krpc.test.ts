import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encode } from '../../src/bencode/index.js';
import { DhtError } from '../../src/dht/errors.js';
import { decodeKrpc, encodeKrpc, MAX_KRPC_DATAGRAM, MAX_NODES, MAX_VALUES } from '../../src/dht/krpc.js';
import type { KrpcMessage } from '../../src/dht/messages.js';
import { QueryResponder } from '../../src/dht/responder.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { arbKrpcMessage } from '../helpers/krpc-arbitrary.js';
import { seededRandom } from '../helpers/seeded-random.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

/** A message or a DhtError; anything else thrown is a bug. */
function messageOrDhtError(datagram: Uint8Array): KrpcMessage | undefined {
  try {
    return decodeKrpc(datagram);
  } catch (error) {
    assert.ok(error instanceof DhtError, `unexpected ${String(error)}`);
    assert.equal(error.code, 'LODESTONE_ERR_DHT_MALFORMED');
    return undefined;
  }
}

/** What every decoded message promises its consumers. */
function check(message: KrpcMessage | undefined): void {
  if (!message) return;
  assert.ok(message.tid.length <= 16);
  if (message.kind === 'query') {
    assert.equal(message.id.length, 20);
    if (message.method === 'announce_peer') {
      assert.ok(message.impliedPort || (message.port >= 1 && message.port <= 65535));
    }
  }
  if (message.kind === 'error') assert.ok(Number.isSafeInteger(message.code));
  if (message.kind === 'response') {
    assert.equal(message.id.length, 20);
    assert.ok((message.nodes?.length ?? 0) <= MAX_NODES && (message.nodes6?.length ?? 0) <= MAX_NODES);
    assert.ok((message.values?.length ?? 0) <= MAX_VALUES);
    for (const peer of [...(message.values ?? []), ...(message.nodes ?? []), ...(message.nodes6 ?? [])]) {
      assert.ok(peer.port >= 1 && peer.port <= 65535);
    }
  }
}

/** A 20-byte id most of the time (so deep paths are reached), sometimes one byte off. */
const idLike = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 20, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 19, maxLength: 21 }) },
);

/** Dictionaries shaped like KRPC with wrong types and sizes in every field. */
const krpcLike = fc
  .record(
    {
      t: fc.oneof(
        { weight: 4, arbitrary: fc.uint8Array({ maxLength: 20 }) },
        { weight: 1, arbitrary: fc.integer() },
      ),
      y: fc.constantFrom('q', 'r', 'e', 'x', ''),
      q: fc.constantFrom('ping', 'find_node', 'get_peers', 'announce_peer', 'vote', ''),
      ro: fc.integer({ min: -1, max: 2 }),
      ip: fc.uint8Array({ maxLength: 20 }),
      a: fc.record(
        {
          id: idLike,
          target: idLike,
          info_hash: idLike,
          port: fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.string()),
          implied_port: fc.integer({ min: -1, max: 2 }),
          token: fc.oneof(fc.uint8Array({ maxLength: 70 }), fc.integer()),
          want: fc.oneof(fc.array(fc.constantFrom('n4', 'n6', 'n9')), fc.string()),
        },
        { requiredKeys: ['id'] },
      ),
      r: fc.record(
        {
          id: idLike,
          nodes: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.integer()),
          nodes6: fc.uint8Array({ maxLength: 400 }),
          values: fc.oneof(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 40 }), fc.string()),
          token: fc.uint8Array({ maxLength: 70 }),
        },
        { requiredKeys: [] },
      ),
      e: fc.oneof(fc.tuple(fc.integer(), fc.string()), fc.array(fc.string(), { maxLength: 3 })),
    },
    { requiredKeys: ['t', 'y'] },
  )
  .map((dict) => encode(dict));

/** Queries of the four methods with every argument present, in range or just out of it. */
const queryLike = fc
  .record({
    t: fc.uint8Array({ maxLength: 17 }),
    y: fc.constant('q'),
    q: fc.constantFrom('ping', 'find_node', 'get_peers', 'announce_peer'),
    a: fc.record(
      {
        id: idLike,
        target: idLike,
        info_hash: idLike,
        port: fc.oneof(fc.integer({ min: -2, max: 70000 }), fc.constantFrom(0, 1, 65535, 65536)),
        implied_port: fc.integer({ min: 0, max: 1 }),
        token: fc.uint8Array({ maxLength: 70 }),
        want: fc.array(fc.constantFrom('n4', 'n6', 'x')),
      },
      { requiredKeys: ['id', 'target', 'info_hash', 'port', 'token'] },
    ),
  })
  .map((dict) => encode(dict));

describe('KRPC decoder never throws anything but DhtError', () => {
  test('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => check(messageOrDhtError(bytes))),
      { numRuns },
    );
  });

  test('KRPC-like dictionaries, possibly truncated', () => {
    fc.assert(
      fc.property(krpcLike, fc.nat(), fc.boolean(), (body, cut, truncate) => {
        check(messageOrDhtError(truncate ? body.subarray(0, cut % (body.length + 1)) : body));
      }),
      { numRuns },
    );
  });

  test('queries with arguments at and beyond their bounds', () => {
    fc.assert(
      fc.property(queryLike, (body) => check(messageOrDhtError(body))),
      { numRuns },
    );
  });

  test('valid messages with bytes flipped, cut or spliced', () => {
    fc.assert(
      fc.property(
        arbKrpcMessage,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (message, flips, cut) => {
          const datagram = Uint8Array.from(encodeKrpc(message));
          for (const [at, value] of flips) datagram[at % datagram.length] = value;
          check(messageOrDhtError(datagram));
          check(messageOrDhtError(datagram.subarray(0, cut % (datagram.length + 1))));
        },
      ),
      { numRuns },
    );
  });

  test('whatever decodes as a query, the responder answers within bounds or stays silent, never throws', () => {
    const clock = new FakeClock();
    const responder = new QueryResponder({
      clock,
      random: seededRandom(5),
      context: {
        ownId: () => new Uint8Array(20),
        closestNodes: (_target, family, count) =>
          Array.from({ length: count }, (_, i) => ({
            id: new Uint8Array(20).fill(i),
            host: family === 4 ? `10.0.0.${i + 1}` : `fd00::${i + 1}`,
            port: 1 + i,
          })),
        isVerified: (_host, port) => port % 2 === 0,
      },
    });
    const from = fc.record({
      host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('x')),
      port: fc.integer({ min: -1, max: 70000 }),
    });
    fc.assert(
      fc.property(fc.oneof(queryLike, krpcLike, arbKrpcMessage.map(encodeKrpc)), from, (datagram, source) => {
        clock.advance(50);
        const message = messageOrDhtError(datagram);
        let reply: KrpcMessage | undefined;
        if (message?.kind === 'query') reply = responder.answer(message, source, datagram.length);
        else if (message === undefined) {
          try {
            decodeKrpc(datagram);
          } catch (error) {
            reply = responder.answerMalformed(error as DhtError, source, datagram.length);
          }
        }
        if (!reply) return;
        const size = encodeKrpc(reply).length;
        assert.ok(size <= MAX_KRPC_DATAGRAM);
        if (source.port % 2 !== 0) assert.ok(size <= 4 * datagram.length, `${size} for ${datagram.length}`);
      }),
      { numRuns },
    );
    assert.ok(responder.memoryBytes() < 4 * 1024 * 1024 + 4096 * 200);
  });
});
