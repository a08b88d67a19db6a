/**
 * Bootstrap asks a node that does not answer only once (its lookups only fill the table), while a
 * get_peers lookup still asks a timed-out node again (maxAttempts): found on the loopback DHT of
 * real nodes, where every closed node stays in the others' tables (docs/dht-interop.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DhtNode } from '../../../src/dht/dht-node.js';
import type { KrpcMessage, KrpcQuery, NodeContact } from '../../../src/dht/messages.js';
import { randomIdWithPrefix } from '../../../src/dht/node-id.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const OWN = new Uint8Array(20);

function setup() {
  const clock = new FakeClock();
  const queries: { message: KrpcQuery; to: { host: string; port: number } }[] = [];
  const random = seededRandom(11);
  const live: NodeContact = { id: randomIdWithPrefix(OWN, 3, random), host: '10.0.0.1', port: 6881 };
  const dead: NodeContact = { id: randomIdWithPrefix(OWN, 4, random), host: '10.0.0.2', port: 6881 };
  const node = new DhtNode({
    clock,
    random: seededRandom(3),
    id: OWN,
    send: (message: KrpcMessage, to) => {
      if (message.kind !== 'query') return;
      queries.push({ message, to });
      // The live node answers at once, naming the dead one; the dead one never answers.
      if (to.host === live.host)
        queueMicrotask(() =>
          node.receive({ kind: 'response', tid: message.tid, id: live.id, nodes: [dead] }, live),
        );
    },
  });
  const toDead = () => queries.filter((q) => q.to.host === dead.host && q.message.method !== 'ping').length;
  return { clock, node, live, dead, queries, toDead };
}

async function runClock(clock: FakeClock, until: Promise<unknown>): Promise<void> {
  let settled = false;
  void until.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 400 && !settled; i++) {
    for (let j = 0; j < 10; j++) await Promise.resolve();
    clock.advance(100);
  }
  await until;
}

test('bootstrap asks a dead node once, not maxAttempts times', async () => {
  const { clock, node, live, toDead } = setup();
  const started = clock.now();
  await runClock(clock, node.bootstrap([{ host: live.host, port: live.port }]));
  assert.equal(toDead(), 1, 'the dead node was asked once during bootstrap');
  assert.ok(clock.now() - started <= 2_500, `bootstrap took ${clock.now() - started} ms of clock`);
  node.close();
});

test('a get_peers lookup still asks a timed-out node again (maxAttempts 4)', async () => {
  const { clock, node, live, toDead } = setup();
  await runClock(clock, node.bootstrap([{ host: live.host, port: live.port }]));
  const before = toDead();
  await runClock(clock, node.getPeers(randomIdWithPrefix(OWN, 4, seededRandom(2))));
  assert.equal(toDead() - before, 4, 'asked 4 times in the get_peers lookup');
  node.close();
});
