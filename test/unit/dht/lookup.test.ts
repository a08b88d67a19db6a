/**
 * The lookup state machine, driven by hand: α parallel queries, the extra slot of a slow query,
 * closest-8 termination, retries, and bounded work on hostile replies.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Lookup } from '../../../src/dht/lookup.js';
import type { NodeContact } from '../../../src/dht/messages.js';
import { compareDistance, randomIdWithPrefix } from '../../../src/dht/node-id.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const random = seededRandom(11);
const TARGET = new Uint8Array(20);
let hostCounter = 0;

/** A contact `prefix` bits close to TARGET (more bits: closer), on its own IP. */
function node(prefix: number): NodeContact {
  hostCounter++;
  return {
    id: randomIdWithPrefix(TARGET, prefix, random),
    host: `10.1.${hostCounter >> 8}.${hostCounter & 0xff}`,
    port: 6881,
  };
}

function hosts(contacts: NodeContact[]): string[] {
  return contacts.map((contact) => contact.host);
}

describe('Lookup', () => {
  test('asks the α closest first, one more only when a slot frees', () => {
    const seeds = [node(1), node(5), node(3), node(2), node(4)];
    const lookup = new Lookup({ target: TARGET });
    lookup.seed(seeds);
    const first = lookup.next();
    assert.deepEqual(hosts(first), hosts([seeds[1]!, seeds[4]!, seeds[2]!]), 'closest three');
    assert.deepEqual(lookup.next(), [], 'no free slot');
    lookup.responded(first[0]!, {});
    assert.deepEqual(hosts(lookup.next()), [seeds[3]!.host]);
  });

  test('a slow query opens one more slot; its late answer still counts', () => {
    const seeds = [node(1), node(2), node(3), node(4)];
    const lookup = new Lookup({ target: TARGET });
    lookup.seed(seeds);
    const first = lookup.next();
    assert.equal(first.length, 3);
    lookup.slow(first[0]!);
    assert.deepEqual(hosts(lookup.next()), [seeds[0]!.host]);
    const closer = node(30);
    lookup.responded(first[0]!, { nodes: [closer] });
    assert.deepEqual(hosts(lookup.next()), [], 'three in flight and none slow');
    assert.equal(lookup.result().responses, 1);
  });

  test('ends when the 8 closest have answered, asking nodes closer than the answers meanwhile', () => {
    const lookup = new Lookup({ target: TARGET });
    lookup.seed([node(1), node(2), node(3)]);
    // Each queried node returns two closer nodes until depth 20.
    const all = new Map<string, NodeContact>();
    for (let round = 0; round < 200 && !lookup.done; round++) {
      const batch = lookup.next();
      for (const contact of batch) all.set(contact.host, contact);
      const contact = batch[0] ?? [...all.values()].find(() => true)!;
      const depth = Math.min(40, 4 + round);
      lookup.responded(contact, { nodes: [node(depth), node(depth)] });
      for (const other of batch.slice(1)) lookup.responded(other, { nodes: [node(depth - 1)] });
    }
    assert.ok(lookup.done);
    const result = lookup.result();
    assert.equal(result.nodes.length, 8);
    const sorted = [...result.nodes].sort((a, b) => compareDistance(a.id, b.id, TARGET));
    assert.deepEqual(hosts(result.nodes), hosts(sorted), 'nearest first');
    assert.ok(result.rounds > 3, `rounds ${result.rounds}`);
  });

  test('is not done while one of the 8 closest is still in flight', () => {
    const seeds = Array.from({ length: 9 }, (_, i) => node(10 + i));
    const lookup = new Lookup({ target: TARGET, alpha: 9 });
    lookup.seed(seeds);
    const batch = lookup.next();
    assert.equal(batch.length, 9);
    // Answer all but the closest one.
    const closest = seeds[8]!;
    for (const contact of batch) if (contact.host !== closest.host) lookup.responded(contact, {});
    assert.equal(lookup.done, false);
    lookup.failed(closest);
    assert.equal(lookup.done, true, 'a failed node does not count; the 8 others answered');
    assert.equal(lookup.result().nodes.length, 8);
  });

  test('a timed-out node is asked again up to maxAttempts, then given up', () => {
    const only = node(9);
    const lookup = new Lookup({ target: TARGET, maxAttempts: 3 });
    lookup.seed([only]);
    for (let attempt = 1; attempt <= 3; attempt++) {
      assert.deepEqual(hosts(lookup.next()), [only.host], `attempt ${attempt}`);
      lookup.failed(only, true);
    }
    assert.deepEqual(lookup.next(), []);
    assert.ok(lookup.done);
    assert.equal(lookup.result().failures, 3);
    // An error reply is not retried.
    const other = new Lookup({ target: TARGET });
    other.seed([only]);
    other.next();
    other.failed(only);
    assert.deepEqual(other.next(), []);
  });

  test('a timed-out node is retried in its own slots: never-asked ones are not held up behind it', () => {
    // Closest first: dead, then three never asked.
    const dead = node(20);
    const second = node(15);
    const third = node(12);
    const fourth = node(10);
    const lookup = new Lookup({ target: TARGET, alpha: 1, maxAttempts: 3 });
    lookup.seed([fourth, third, dead, second]);
    assert.deepEqual(hosts(lookup.next()), [dead.host], 'the closest is asked first');
    lookup.failed(dead, true);
    // The old order asked the dead node again and nobody else (α = 1).
    assert.deepEqual(
      hosts(lookup.next()),
      [second.host, dead.host],
      'the never-asked node at once, the retry beside it',
    );
    assert.deepEqual(lookup.next(), [], 'both sets of slots are full');
    lookup.failed(dead, true);
    assert.deepEqual(hosts(lookup.next()), [dead.host], 'the third and last try');
    lookup.responded(second, {});
    assert.deepEqual(hosts(lookup.next()), [third.host], 'never-asked ones keep their own slot');
    lookup.failed(dead, true);
    assert.deepEqual(lookup.next(), [], 'no fourth try; the never-asked slot is busy');
    lookup.responded(third, {});
    assert.deepEqual(hosts(lookup.next()), [fourth.host]);
    lookup.responded(fourth, {});
    assert.ok(lookup.done);
    assert.deepEqual(hosts(lookup.result().nodes), [second.host, third.host, fourth.host]);
    assert.equal(lookup.result().failures, 3);
  });

  test('a reply with hundreds of nodes costs bounded work and memory', () => {
    const lookup = new Lookup({ target: TARGET, maxCandidates: 100, maxNodesPerReply: 64 });
    const seed = node(1);
    lookup.seed([seed]);
    lookup.next();
    const flood = Array.from({ length: 500 }, (_, i) => node(2 + (i % 150)));
    lookup.responded(seed, { nodes: flood });
    assert.ok(lookup.candidateCount <= 64 + 1, `candidates ${lookup.candidateCount}`);
    // Several floods: the list stays at maxCandidates.
    for (let round = 0; round < 10; round++) {
      const batch = lookup.next();
      for (const contact of batch) lookup.responded(contact, { nodes: flood.slice(round * 40) });
    }
    assert.ok(lookup.candidateCount <= 100, `candidates ${lookup.candidateCount}`);
  });

  test('a node claiming every id from one address is one candidate', () => {
    const lookup = new Lookup({ target: TARGET });
    const seed = node(1);
    lookup.seed([seed]);
    lookup.next();
    const liar = node(2);
    const claims = Array.from({ length: 50 }, (_, i) => ({
      ...liar,
      id: randomIdWithPrefix(TARGET, 20 + i, random),
    }));
    lookup.responded(seed, { nodes: claims });
    assert.equal(lookup.candidateCount, 2);
  });

  test('collects peers once each and keeps the tokens of the nodes that answered', () => {
    const a = node(5);
    const b = node(6);
    const lookup = new Lookup({ target: TARGET });
    lookup.seed([a, b]);
    lookup.next();
    const peer = { host: '10.9.0.1', port: 51413 };
    assert.deepEqual(
      lookup.responded(a, { values: [peer, peer, { host: '10.9.0.2', port: 0 }], token: Uint8Array.of(1) }),
      [peer],
    );
    assert.deepEqual(lookup.responded(b, { values: [peer], token: Uint8Array.of(2) }), []);
    assert.ok(lookup.done);
    const result = lookup.result();
    assert.deepEqual(result.peers, [peer]);
    assert.deepEqual(
      result.nodes.map((n) => [n.host, n.token?.[0]]),
      [
        [b.host, 2],
        [a.host, 1],
      ],
    );
  });

  test('a reply from a node never asked changes nothing', () => {
    const lookup = new Lookup({ target: TARGET });
    const a = node(3);
    lookup.seed([a]);
    const stranger = node(4);
    assert.deepEqual(
      lookup.responded(stranger, { values: [{ host: '10.9.9.9', port: 1 }], nodes: [node(50)] }),
      [],
    );
    assert.equal(lookup.candidateCount, 1);
  });
});
