/**
 * One DhtNode on a fake clock, its datagrams captured: unsolicited replies are ignored, replies
 * must come from the address queried, queriers join the table (read-only ones do not), timeouts,
 * abort and close, announce to the nodes that gave tokens, pings before eviction.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DhtNode } from '../../../src/dht/dht-node.js';
import { DhtError } from '../../../src/dht/errors.js';
import type { KrpcMessage, KrpcQuery, NodeContact } from '../../../src/dht/messages.js';
import { randomIdWithPrefix, sameId } from '../../../src/dht/node-id.js';
import { NODE_FRESH_MS } from '../../../src/dht/routing-entry.js';
import { isSecureNodeId } from '../../../src/dht/secure-id.js';
import { LodestoneError } from '../../../src/errors.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const OWN = new Uint8Array(20);
const random = seededRandom(5);

interface Sent {
  message: KrpcMessage;
  to: { host: string; port: number };
}

function harness(options: { refreshCheckMs?: number } = {}) {
  const clock = new FakeClock();
  const sent: Sent[] = [];
  const node = new DhtNode({
    clock,
    random: seededRandom(3),
    id: OWN,
    send: (message, to) => sent.push({ message, to }),
    ...(options.refreshCheckMs ? { refreshCheckMs: options.refreshCheckMs } : {}),
  });
  /** Queries sent and not yet looked at. */
  const take = (method?: string): (Sent & { message: KrpcQuery })[] => {
    const out = sent.filter(
      (s): s is Sent & { message: KrpcQuery } =>
        s.message.kind === 'query' && (method === undefined || s.message.method === method),
    );
    sent.length = 0;
    return out;
  };
  return { clock, node, sent, take };
}

function contact(prefix: number, host: string): NodeContact {
  return { id: randomIdWithPrefix(OWN, prefix, random), host, port: 6881 };
}

function reply(to: Sent & { message: KrpcQuery }, from: NodeContact, extra: object = {}): KrpcMessage {
  return { kind: 'response', tid: to.message.tid, id: from.id, ...extra };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('DhtNode', () => {
  test('a reply to a query we never sent is ignored', () => {
    const { node, sent } = harness();
    node.receive(
      { kind: 'response', tid: Uint8Array.of(1, 2), id: contact(3, '10.0.0.9').id },
      { host: '10.0.0.9', port: 6881 },
    );
    node.receive(
      { kind: 'error', tid: Uint8Array.of(1, 2), code: 201, message: 'x' },
      { host: '10.0.0.9', port: 6881 },
    );
    assert.equal(node.stats().unsolicited, 2);
    assert.equal(node.nodes().length, 0);
    assert.equal(sent.length, 0, 'nothing sent in return');
  });

  test('a reply must come from the address queried; bootstrap then looks up our own id', async () => {
    const { clock, node, take } = harness();
    const a = contact(1, '10.0.0.1');
    const b = contact(2, '10.0.0.2');
    const done = node.bootstrap([{ host: a.host, port: a.port }]);
    const [query] = take('find_node');
    assert.ok(query);
    assert.deepEqual(query.to, { host: a.host, port: a.port });
    node.receive(reply(query, b, { nodes: [b] }), { host: b.host, port: b.port });
    assert.equal(node.stats().unsolicited, 1, 'same tid from another address');
    assert.equal(node.nodes().length, 0);
    node.receive(reply(query, a, { nodes: [b] }), { host: a.host, port: a.port });
    assert.deepEqual(
      node.nodes().map((n) => n.host),
      [a.host],
    );
    await settle();
    const lookups = take('find_node');
    assert.ok(
      lookups.some((s) => s.to.host === b.host),
      'the own-id lookup asks the node learned',
    );
    clock.advance(60_000);
    await done;
    assert.ok(node.stats().timeouts >= 1);
  });

  test('queriers join the table and are pinged once; read-only queriers are answered but not added', () => {
    const { node, take } = harness();
    const q = contact(4, '10.0.0.4');
    node.receive({ kind: 'query', method: 'ping', tid: Uint8Array.of(9), id: q.id, readOnly: false }, q);
    const r = contact(5, '10.0.0.5');
    node.receive({ kind: 'query', method: 'ping', tid: Uint8Array.of(8), id: r.id, readOnly: true }, r);
    assert.deepEqual(
      node.nodes().map((n) => n.host),
      [q.host],
    );
    assert.equal(node.stats().questionable, 1);
    const pings = take('ping');
    assert.deepEqual(
      pings.map((p) => p.to.host),
      [q.host],
    );
    assert.equal(node.stats().queriesReceived, 2);
  });

  test('a full bucket: the stalest questionable node is pinged, and replaced when it fails', () => {
    // No bucket refresh here: its lookups would query (and fail) the same nodes.
    const { clock, node, take } = harness({ refreshCheckMs: 1e12 });
    const near = contact(5, '10.0.1.1');
    const far = Array.from({ length: 8 }, (_, i) => contact(0, `10.0.2.${i + 1}`));
    for (const c of [near, ...far])
      node.receive({ kind: 'query', method: 'ping', tid: Uint8Array.of(1), id: c.id, readOnly: false }, c);
    // Everyone answers the first ping, so they are all good.
    for (const ping of take('ping')) {
      const who = [near, ...far].find((c) => c.host === ping.to.host)!;
      node.receive(reply(ping, who), ping.to);
    }
    assert.equal(node.stats().good, 9);
    clock.advance(NODE_FRESH_MS + 1);
    const newcomer = contact(0, '10.0.3.1');
    node.receive(
      { kind: 'query', method: 'ping', tid: Uint8Array.of(1), id: newcomer.id, readOnly: false },
      newcomer,
    );
    const pings = take('ping');
    assert.equal(pings.length, 1);
    assert.equal(pings[0]!.to.host, far[0]!.host, 'the least recently seen questionable node');
    assert.ok(!node.nodes().some((n) => n.host === newcomer.host), 'not in the table yet');
    // far[0] stays silent to this and two more pings (the newcomer keeps querying).
    for (let i = 0; i < 3; i++) {
      clock.advance(11_000);
      node.receive(
        { kind: 'query', method: 'ping', tid: Uint8Array.of(1), id: newcomer.id, readOnly: false },
        newcomer,
      );
    }
    clock.advance(11_000);
    assert.ok(
      node.nodes().some((n) => n.host === newcomer.host),
      'the newcomer took the slot',
    );
    assert.ok(!node.nodes().some((n) => n.host === far[0]!.host));
  });

  test('getPeers aborts with LODESTONE_ERR_ABORTED; close ends lookups and timers', async () => {
    const { clock, node, take } = harness();
    const q = contact(4, '10.0.0.4');
    node.receive({ kind: 'query', method: 'ping', tid: Uint8Array.of(9), id: q.id, readOnly: false }, q);
    take();
    const controller = new AbortController();
    const aborted = node.getPeers(OWN, { signal: controller.signal });
    assert.equal(take('get_peers').length, 1);
    controller.abort();
    await assert.rejects(
      aborted,
      (error: unknown) => error instanceof LodestoneError && error.code === 'LODESTONE_ERR_ABORTED',
    );
    const pending = node.getPeers(OWN);
    const booting = node.bootstrap([{ host: '10.0.0.8', port: 6881 }]);
    node.close();
    await booting; // settles: its find_node is forgotten as if timed out
    const result = await pending;
    assert.equal(result.responses, 0);
    assert.equal(clock.pendingTimers, 0, 'no timer left');
    take();
    node.receive({ kind: 'query', method: 'ping', tid: Uint8Array.of(9), id: q.id, readOnly: false }, q);
    assert.equal(take().length, 0, 'a closed node sends nothing');
  });

  test('announce sends announce_peer with each token to the closest nodes that gave one', async () => {
    const { node, take } = harness();
    const a = contact(10, '10.0.0.1');
    const b = contact(11, '10.0.0.2');
    const c = contact(12, '10.0.0.3');
    const boot = node.bootstrap([a, b, c]);
    for (const query of take('find_node')) {
      const who = [a, b, c].find((x) => x.host === query.to.host)!;
      node.receive(reply(query, who), query.to);
    }
    await settle();
    for (const query of take('find_node')) {
      const who = [a, b, c].find((x) => x.host === query.to.host)!;
      node.receive(reply(query, who), query.to);
    }
    await boot;
    take();
    const infoHash = randomIdWithPrefix(OWN, 12, random);
    const announced = node.announce(infoHash, 51413);
    const peer = { host: '10.5.0.1', port: 6000 };
    for (const query of take('get_peers')) {
      const who = [a, b, c].find((x) => x.host === query.to.host)!;
      const token = who === c ? {} : { token: Buffer.from(who.host) };
      node.receive(reply(query, who, { ...token, values: [peer] }), query.to);
    }
    await settle();
    const announces = take('announce_peer');
    assert.deepEqual(announces.map((s) => s.to.host).sort(), [a.host, b.host]);
    for (const s of announces) {
      assert.equal(s.message.method, 'announce_peer');
      if (s.message.method !== 'announce_peer') continue;
      assert.equal(Buffer.from(s.message.token).toString(), s.to.host);
      assert.equal(s.message.port, 51413);
      assert.equal(s.message.impliedPort, false);
      const who = [a, b].find((x) => x.host === s.to.host)!;
      node.receive(reply(s, who), s.to);
    }
    const result = await announced;
    assert.equal(result.announced, 2);
    assert.deepEqual(result.peers, [peer]);
    assert.equal(node.externalIp(), undefined, 'no reply carried an ip');
  });

  test('an announce_peer that times out is sent once more, and no more', async () => {
    const { clock, node, take } = harness();
    const a = contact(10, '10.0.0.1');
    const b = contact(11, '10.0.0.2');
    node.table.heard(a, true, 0);
    node.table.heard(b, true, 0);
    const infoHash = randomIdWithPrefix(OWN, 12, random);
    const announced = node.announce(infoHash, 51413);
    for (const query of take('get_peers')) {
      const who = [a, b].find((x) => x.host === query.to.host)!;
      node.receive(reply(query, who, { token: Buffer.from(who.host) }), query.to);
    }
    await settle();
    const first = take('announce_peer');
    assert.deepEqual(first.map((s) => s.to.host).sort(), [a.host, b.host]);
    // Both are lost: each is sent again after the timeout; a answers the second, b never does.
    // (The timeout adapts to the replies' round trip: at least 500 ms, at most 2 s.)
    let second: ReturnType<typeof take> = [];
    for (let waited = 0; waited < 2_000 && second.length === 0; waited += 100) {
      clock.advance(100);
      second = take('announce_peer');
    }
    assert.deepEqual(second.map((s) => s.to.host).sort(), [a.host, b.host], 'one more try each');
    node.receive(reply(second.find((s) => s.to.host === a.host)!, a), { host: a.host, port: a.port });
    clock.advance(2_000);
    assert.deepEqual(take('announce_peer'), [], 'no third try');
    const result = await announced;
    assert.equal(result.announced, 1);
  });

  test('a bucket idle for 15 minutes is refreshed with a find_node lookup in its range', () => {
    const { clock, node, take } = harness();
    const q = contact(0, '10.0.0.4');
    node.receive({ kind: 'query', method: 'ping', tid: Uint8Array.of(9), id: q.id, readOnly: false }, q);
    const [ping] = take('ping');
    node.receive(reply(ping!, q), ping!.to);
    clock.advance(NODE_FRESH_MS - 60_000);
    assert.deepEqual(take('find_node'), [], 'nothing before 15 minutes');
    clock.advance(60_000);
    const refresh = take('find_node');
    assert.equal(refresh.length, 1);
    assert.equal(refresh[0]!.to.host, q.host);
  });

  test('learns its external IP from the ip field of replies to its own queries', () => {
    const { node, take } = harness();
    const me = { host: '203.0.113.5', port: 6881 };
    const voters = [contact(1, '10.0.0.1'), contact(2, '10.0.0.2'), contact(3, '10.0.0.3')];
    void node.bootstrap(voters);
    const queries = take('find_node');
    // Replies nobody asked for do not vote, however many.
    for (let i = 0; i < 5; i++)
      node.receive(
        { kind: 'response', tid: Uint8Array.of(7, i), id: voters[0]!.id, ip: { host: '6.6.6.6', port: 1 } },
        {
          host: `10.9.0.${i}`,
          port: 6881,
        },
      );
    for (const [i, query] of queries.entries()) {
      const who = voters.find((x) => x.host === query.to.host)!;
      node.receive(reply(query, who, { ip: me }), query.to);
      assert.equal(node.externalIp(), i < 2 ? undefined : me.host, `after ${i + 1} votes`);
    }
  });

  test('BEP 42: a random id becomes a secure one once 3 responders agree on a public IP; the table is kept', () => {
    const run = (ip: string, id?: Uint8Array, secureId?: boolean) => {
      const clock = new FakeClock();
      const sent: Sent[] = [];
      const node = new DhtNode({
        clock,
        random: seededRandom(8),
        send: (message, to) => sent.push({ message, to }),
        ...(id ? { id } : {}),
        ...(secureId === undefined ? {} : { secureId }),
      });
      const before = Uint8Array.from(node.id);
      const voters = [contact(1, '10.0.0.1'), contact(2, '10.0.0.2'), contact(3, '10.0.0.3')];
      void node.bootstrap(voters);
      for (const s of sent.splice(0)) {
        if (s.message.kind !== 'query') continue;
        const who = voters.find((x) => x.host === s.to.host)!;
        node.receive(
          { kind: 'response', tid: s.message.tid, id: who.id, ip: { host: ip, port: 6881 } },
          s.to,
        );
      }
      return { node, before };
    };
    const { node, before } = run('203.0.113.5');
    assert.ok(!sameId(node.id, before), 'the id changed');
    assert.ok(isSecureNodeId(node.id, '203.0.113.5'));
    assert.equal(node.stats().idChanges, 1);
    assert.equal(node.nodes().length, 3, 'the routing table kept its nodes');
    assert.equal(node.stats().good, 3);
    const local = run('192.168.1.20');
    assert.ok(sameId(local.node.id, local.before), 'a local address is exempt');
    const chosen = run('203.0.113.5', OWN);
    assert.ok(sameId(chosen.node.id, OWN), 'an id the caller chose is kept');
    const saved = run('203.0.113.5', OWN, true);
    assert.ok(
      isSecureNodeId(saved.node.id, '203.0.113.5'),
      'a saved id with secureId: replaced when not valid',
    );
  });

  test('a malformed query with a readable tid gets error 203; other garbage is dropped', () => {
    const { node, sent } = harness();
    const from = { host: '10.0.0.4', port: 6881 };
    node.receiveMalformed(
      new DhtError('bad', 'LODESTONE_ERR_DHT_MALFORMED', { queryTid: Uint8Array.of(4, 2) }),
      from,
      60,
    );
    node.receiveMalformed(new DhtError('bad'), from, 60);
    assert.equal(sent.length, 1);
    const [{ message, to }] = sent as [Sent];
    assert.deepEqual(to, from);
    assert.equal(message.kind, 'error');
    if (message.kind === 'error') {
      assert.equal(message.code, 203);
      assert.deepEqual([...message.tid], [4, 2]);
    }
  });
});
