import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encode } from '../../../src/bencode/index.js';
import { DhtError } from '../../../src/dht/errors.js';
import type { NodeContact } from '../../../src/dht/messages.js';
import { decodeDhtState, encodeDhtState, MAX_STATE_NODES } from '../../../src/dht/state.js';

const OWN = new Uint8Array(20).fill(9);
const node = (i: number, v6 = false): NodeContact => ({
  id: new Uint8Array(20).fill(i & 255),
  host: v6 ? `2001:db8::${(i + 1).toString(16)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  port: 1 + (i % 65535),
});

function stateError(bytes: Uint8Array, pattern?: RegExp): void {
  assert.throws(
    () => decodeDhtState(bytes),
    (error: unknown) =>
      error instanceof DhtError &&
      error.code === 'LODESTONE_ERR_DHT_STATE' &&
      (!pattern || pattern.test(error.message)),
  );
}

describe('saved DHT state', () => {
  test('round trip: id, IPv4 and IPv6 nodes, saved-at', () => {
    const nodes = [node(1), node(2, true), node(3)];
    const bytes = encodeDhtState({ id: OWN, nodes, savedAt: 1_700_000_000_000 });
    const state = decodeDhtState(bytes);
    assert.deepEqual(state.id, OWN);
    assert.equal(state.savedAt, 1_700_000_000_000);
    assert.deepEqual(
      state.nodes,
      [node(1), node(3), node(2, true)],
      'IPv4 first, then IPv6, order kept within each',
    );
  });

  test('the format is a bencoded dictionary with id, nodes, nodes6, saved-at', () => {
    const bytes = encodeDhtState({ id: OWN, nodes: [node(1)], savedAt: 5 });
    assert.ok(Buffer.from(bytes).toString('latin1').startsWith('d2:id20:'));
    assert.match(Buffer.from(bytes).toString('latin1'), /5:nodes26:.*6:nodes60:8:saved-ati5ee$/s);
  });

  test('at most 2000 nodes are written; contacts that cannot be written are skipped', () => {
    const many = Array.from({ length: 2500 }, (_, i) => node(i));
    const state = decodeDhtState(
      encodeDhtState({ id: OWN, nodes: [{ id: OWN, host: 'example.com', port: 1 }, ...many], savedAt: 0 }),
    );
    assert.equal(state.nodes.length, MAX_STATE_NODES);
    assert.deepEqual(state.nodes[0], node(0));
  });

  test('a state with more than 2000 nodes is refused', () => {
    const nodes = new Uint8Array(26 * 1001).fill(1);
    const nodes6 = new Uint8Array(38 * 1000).fill(1);
    stateError(encode({ id: OWN, nodes, nodes6, 'saved-at': 0 }), /more than 2000/);
  });

  test('corrupt states are typed errors: truncated, wrong types, bad lengths, missing keys', () => {
    const good = encodeDhtState({ id: OWN, nodes: [node(1), node(2, true)], savedAt: 7 });
    stateError(good.subarray(0, good.length - 1), /not bencoded/);
    stateError(new Uint8Array(0));
    stateError(encode([1, 2]), /dictionary/);
    stateError(encode({ id: new Uint8Array(19), 'saved-at': 0 }), /id/);
    stateError(encode({ id: OWN }), /saved-at/);
    stateError(encode({ id: OWN, 'saved-at': -1 }), /saved-at/);
    stateError(encode({ id: OWN, nodes: new Uint8Array(27), 'saved-at': 0 }), /nodes/);
    stateError(encode({ id: OWN, nodes6: 5, 'saved-at': 0 }), /nodes6/);
    stateError(new Uint8Array(200_000), /more than/);
    assert.deepEqual(decodeDhtState(encode({ id: OWN, 'saved-at': 0 })).nodes, [], 'no nodes is fine');
  });

  test('property: random bytes and damaged states give a state or a DhtError, never anything else', () => {
    const good = encodeDhtState({
      id: OWN,
      nodes: Array.from({ length: 30 }, (_, i) => node(i, i % 3 === 0)),
      savedAt: 99,
    });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.nat(), fc.nat(255), fc.nat()).map(([at, value, cut]) => {
            const bytes = Uint8Array.from(good);
            bytes[at % bytes.length] = value;
            return bytes.subarray(0, cut % (bytes.length + 1));
          }),
        ),
        (bytes) => {
          try {
            const state = decodeDhtState(bytes);
            assert.ok(state.nodes.length <= MAX_STATE_NODES);
          } catch (error) {
            assert.ok(error instanceof DhtError && error.code === 'LODESTONE_ERR_DHT_STATE', String(error));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
