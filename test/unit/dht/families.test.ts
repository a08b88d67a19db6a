/**
 * BEP 32 on the pure DhtNode (fake clock, datagrams captured): a node with both families runs a
 * lookup in each family's table and announces to the closest k of each; bootstrap asks for nodes
 * of both (`want`), and what it learns goes to the lookup (and table) of its own family; an
 * IPv4-mapped address in `nodes6` is never asked; a one-family node sends no `want` and never asks
 * a node of the other family.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
const random = seededRandom(32);

function harness(families?: (4 | 6)[]) {
  const { clock, node, sent } = capturingNode(OWN, 9, families);
  const take = (method: string): SentQuery[] => {
    const out = sent.filter((s) => s.message.method === method);
    const rest = sent.filter((s) => s.message.method !== method);
    sent.length = 0;
    sent.push(...rest);
    return out;
  };
  return { clock, node, take };
}

/** A contact sharing `prefix` bits with TARGET (more: closer). */
const near = (prefix: number, host: string): NodeContact => contactNear(TARGET, prefix, host, random);
const reply = replyTo;

describe('DhtNode with both address families (BEP 32)', () => {
  test('get_peers runs in each family; announce goes to the closest k of each', async () => {
    const { node, take } = harness();
    // Ten IPv4 nodes all closer to the target than the three IPv6 ones: one lookup over both
    // families would announce to eight IPv4 nodes and no IPv6 one.
    const v4 = Array.from({ length: 10 }, (_, i) => near(40 + i, `10.0.0.${i + 1}`));
    const v6 = Array.from({ length: 3 }, (_, i) => near(5 + i, `fd00::${i + 1}`));
    for (const contact of [...v4, ...v6]) node.table.heard(contact, true, 0);
    const all = new Map([...v4, ...v6].map((c) => [c.host, c]));
    const found: string[] = [];
    const announced = node.announce(TARGET, 51413, {
      onPeers: (peers) => found.push(...peers.map((p) => p.host)),
    });
    const asked: string[] = [];
    for (let round = 0; round < 20; round++) {
      const queries = take('get_peers');
      if (queries.length === 0) break;
      if (round === 0)
        assert.deepEqual(
          queries.map((q) => (q.to.host.includes(':') ? 6 : 4)).sort(),
          [4, 4, 4, 6, 6, 6],
          'α = 3 queries in each family at once',
        );
      if (round === 0) assert.equal(node.stats().activeLookups, 1, 'one lookup, however many families');
      for (const query of queries) {
        asked.push(query.to.host);
        const who = all.get(query.to.host)!;
        // Each family's peers come back from its own nodes.
        const values = who.host === 'fd00::1' ? [{ host: 'fd00::99', port: 7000 }] : [];
        const extra = who.host === '10.0.0.1' ? { values: [{ host: '10.9.9.9', port: 7000 }] } : {};
        node.receive(
          reply(query, who.id, {
            token: Buffer.from(who.host),
            ...(values.length ? { values } : {}),
            ...extra,
          }),
          query.to,
        );
      }
      await settle();
    }
    assert.ok(
      v6.every((c) => asked.includes(c.host)),
      'every IPv6 node was asked',
    );
    const announces = take('announce_peer');
    const targets = announces.map((s) => s.to.host);
    assert.equal(targets.filter((h) => h.includes(':')).length, 3, `IPv6 targets: ${targets}`);
    assert.equal(targets.filter((h) => !h.includes(':')).length, 8, 'the closest 8 IPv4 nodes');
    for (const s of announces) node.receive(reply(s, all.get(s.to.host)!.id), s.to);
    const result = await announced;
    assert.equal(result.announced, 11);
    assert.deepEqual(found.sort(), ['10.9.9.9', 'fd00::99'], 'peers of both families reach onPeers');
    assert.deepEqual(result.peers.map((p) => p.host).sort(), ['10.9.9.9', 'fd00::99']);
  });

  test('bootstrap asks for both families; nodes6 go to the IPv6 lookup and table, never a mapped address', async () => {
    const { clock, node, take } = harness([4, 6]);
    const entry = near(1, '10.0.0.1');
    const v4b = near(2, '10.0.0.2');
    const v6a = near(3, 'fd00::a');
    const mapped = near(4, '::ffff:10.0.0.9');
    const done = node.bootstrap([{ host: entry.host, port: entry.port }]);
    const [first] = take('find_node');
    assert.ok(first);
    assert.deepEqual(first.message.method === 'find_node' ? first.message.want : undefined, ['n4', 'n6']);
    node.receive(reply(first, entry.id, { nodes: [v4b], nodes6: [v6a, mapped] }), first.to);
    await settle();
    const lookups = take('find_node');
    const hosts = lookups.map((s) => s.to.host).sort();
    assert.deepEqual(hosts, ['10.0.0.1', '10.0.0.2', 'fd00::a'].sort(), 'the mapped address is never asked');
    for (const query of lookups) {
      const who = [entry, v4b, v6a].find((c) => c.host === query.to.host)!;
      node.receive(reply(query, who.id), query.to);
    }
    await settle();
    clock.advance(10_000);
    await done;
    const now = clock.now();
    assert.deepEqual(
      node.table.closest(TARGET, 8, 6, now).map((c) => c.host),
      ['fd00::a'],
      'the IPv6 node is in the IPv6 table',
    );
    assert.deepEqual(
      node.table
        .closest(TARGET, 8, 4, now)
        .map((c) => c.host)
        .sort(),
      ['10.0.0.1', '10.0.0.2'],
    );
    assert.equal(node.table.get('::ffff:10.0.0.9', 6881), undefined);
  });

  test('an IPv4-only node sends no want and never asks an IPv6 node', async () => {
    const { clock, node, take } = harness([4]);
    const entry = near(1, '10.0.0.1');
    const v6a = near(30, 'fd00::a');
    const done = node.bootstrap([{ host: entry.host, port: entry.port }]);
    const [first] = take('find_node');
    assert.ok(first);
    assert.equal(first.message.method === 'find_node' ? first.message.want : 'not find_node', undefined);
    node.receive(reply(first, entry.id, { nodes6: [v6a] }), first.to);
    await settle();
    const lookup = node.getPeers(TARGET);
    await settle();
    const asked = [...take('find_node'), ...take('get_peers')].map((s) => s.to.host);
    assert.ok(!asked.includes('fd00::a'), `asked ${asked}`);
    clock.advance(60_000);
    await done;
    await lookup;
  });
});
