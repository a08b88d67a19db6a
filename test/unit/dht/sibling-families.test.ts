/**
 * BEP 32 on the pure DhtNode (fake clock, datagrams captured): a reply in one family's lookup that
 * names nodes of the other family (`nodes6` in an IPv4 lookup, `nodes` in an IPv6 one) hands them
 * to the sibling lookup, which asks them even when its own table was empty; with no sibling
 * running (a one-family bucket refresh) they are pinged, and an answer puts them in that family's
 * table. A node without the other family never contacts them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DhtNode } from '../../../src/dht/dht-node.js';
import type { NodeContact } from '../../../src/dht/messages.js';
import {
  capturingNode,
  contactNear,
  replyTo,
  type SentQuery,
  settle,
} from '../../helpers/dht-node-harness.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const OWN = new Uint8Array(20).fill(0xff);
const TARGET = new Uint8Array(20);
const random = seededRandom(77);

function harness(families: (4 | 6)[]) {
  const { clock, node, sent } = capturingNode(OWN, 5, families);
  const takeAll = (): SentQuery[] => sent.splice(0);
  return { clock, node, takeAll };
}

const near = (prefix: number, host: string): NodeContact => contactNear(TARGET, prefix, host, random);

/**
 * Answers every query sent, as `world` says, until nothing more is sent; returns the hosts asked,
 * in order, with the method.
 */
async function serve(
  takeAll: () => SentQuery[],
  node: DhtNode,
  world: Map<string, { contact: NodeContact; extra: object }>,
): Promise<string[]> {
  const asked: string[] = [];
  for (let round = 0; round < 30; round++) {
    const queries = takeAll();
    if (queries.length === 0) break;
    for (const query of queries) {
      asked.push(`${query.message.method} ${query.to.host}`);
      const who = world.get(query.to.host);
      if (who) node.receive(replyTo(query, who.contact.id, who.extra), query.to);
    }
    await settle();
  }
  return asked;
}

describe('other-family nodes in a lookup reply (BEP 32)', () => {
  test('nodes6 in an IPv4 get_peers reply go to the IPv6 lookup, which finds the peer', async () => {
    const { node, takeAll } = harness([4, 6]);
    const v4 = near(10, '10.0.0.1');
    const v6 = near(20, 'fd00::6');
    const mapped = near(30, '::ffff:10.0.0.9');
    // The IPv6 table is empty: only the IPv4 node's nodes6 names an IPv6 node.
    node.table.heard(v4, true, 0);
    const world = new Map([
      [v4.host, { contact: v4, extra: { token: Buffer.from('a'), nodes6: [v6, mapped] } }],
      [
        v6.host,
        { contact: v6, extra: { token: Buffer.from('b'), values: [{ host: 'fd00::99', port: 7000 }] } },
      ],
    ]);
    const found: string[] = [];
    const lookup = node.getPeers(TARGET, { onPeers: (peers) => found.push(...peers.map((p) => p.host)) });
    const asked = await serve(takeAll, node, world);
    const result = await lookup;
    assert.ok(asked.includes('get_peers fd00::6'), `the IPv6 node was asked: ${asked}`);
    assert.ok(!asked.some((a) => a.includes('::ffff:')), 'an IPv4-mapped address is never asked');
    assert.deepEqual(found, ['fd00::99']);
    assert.deepEqual(
      result.nodes.map((n) => n.host),
      ['10.0.0.1', 'fd00::6'],
      'each family lists its responders',
    );
    assert.ok(result.rounds >= 2, `the handed-over node counts as a hop (rounds ${result.rounds})`);
    assert.ok(node.table.get('fd00::6', 6881), 'and, having answered, it is in the IPv6 table');
  });

  test('IPv4 nodes in an IPv6 reply go to the IPv4 lookup', async () => {
    const { node, takeAll } = harness([4, 6]);
    const v6 = near(10, 'fd00::1');
    const v4 = near(20, '10.0.0.2');
    node.table.heard(v6, true, 0);
    const world = new Map([
      [v6.host, { contact: v6, extra: { nodes: [v4] } }],
      [v4.host, { contact: v4, extra: { values: [{ host: '10.9.9.9', port: 7000 }] } }],
    ]);
    const lookup = node.getPeers(TARGET);
    const asked = await serve(takeAll, node, world);
    const result = await lookup;
    assert.ok(asked.includes('get_peers 10.0.0.2'), `the IPv4 node was asked: ${asked}`);
    assert.deepEqual(
      result.peers.map((p) => p.host),
      ['10.9.9.9'],
    );
  });

  test('with no lookup of that family running (a bucket refresh), the nodes are pinged into its table', async () => {
    const { clock, node, takeAll } = harness([4, 6]);
    const v4 = near(10, '10.0.0.1');
    const v6 = Array.from({ length: 12 }, (_, i) => near(20 + i, `fd00::${i + 1}`));
    node.table.heard(v4, true, 0); // heard long ago: its bucket is stale
    const world = new Map<string, { contact: NodeContact; extra: object }>([
      [v4.host, { contact: v4, extra: { nodes6: v6 } }],
      ...v6.map((c) => [c.host, { contact: c, extra: {} }] as const),
    ]);
    clock.advance(60_000); // the refresh check: an IPv4-only find_node lookup
    const asked = await serve(takeAll, node, world);
    const pings = asked.filter((a) => a.startsWith('ping fd00::'));
    assert.equal(pings.length, 8, `at most 8 pinged from one reply: ${asked}`);
    assert.ok(!asked.some((a) => a.startsWith('find_node fd00::')), 'the refresh asks only its family');
    assert.equal(node.table.closest(TARGET, 20, 6, clock.now()).length, 8, 'the answers fill the IPv6 table');
  });

  test('a node named by several replies is pinged once while its ping is pending', async () => {
    const { clock, node, takeAll } = harness([4, 6]);
    const v4 = [near(10, '10.0.0.1'), near(11, '10.0.0.2'), near(12, '10.0.0.3')];
    const v6 = near(20, 'fd00::6');
    for (const contact of v4) node.table.heard(contact, true, 0);
    const world = new Map<string, { contact: NodeContact; extra: object }>(
      v4.map((c) => [c.host, { contact: c, extra: { nodes6: [v6] } }] as const),
    );
    clock.advance(60_000); // the refresh: find_node to the three IPv4 nodes, each names fd00::6
    const asked = await serve(takeAll, node, world); // fd00::6 never answers
    assert.deepEqual(
      asked.filter((a) => a.includes('fd00::')),
      ['ping fd00::6'],
    );
  });

  test('a node without IPv6 never contacts the nodes6 it is given', async () => {
    const { clock, node, takeAll } = harness([4]);
    const v4 = near(10, '10.0.0.1');
    const v6 = near(20, 'fd00::6');
    node.table.heard(v4, true, 0);
    const world = new Map([[v4.host, { contact: v4, extra: { nodes6: [v6] } }]]);
    const lookup = node.getPeers(TARGET);
    let asked = await serve(takeAll, node, world);
    await lookup;
    clock.advance(60_000);
    asked = [...asked, ...(await serve(takeAll, node, world))];
    assert.ok(!asked.some((a) => a.includes('fd00::')), `asked ${asked}`);
  });
});
