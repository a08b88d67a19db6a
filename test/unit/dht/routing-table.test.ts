/**
 * The routing table on hand-built ids: bucket splitting only where our id falls, node states by
 * the 15-minute rule, replacement caches, one entry per IP, closest-node selection, stale buckets.
 * Time is a number passed in; nothing waits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeContact } from '../../../src/dht/messages.js';
import { compareDistance, randomIdWithPrefix, sharedPrefixBits } from '../../../src/dht/node-id.js';
import { NODE_FRESH_MS } from '../../../src/dht/routing-entry.js';
import { RoutingTable } from '../../../src/dht/routing-table.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const T0 = 1_000_000;
const OWN = new Uint8Array(20); // all zeros
const random = seededRandom(7);
let hostCounter = 0;

/** A contact sharing exactly `prefix` leading bits with OWN, on a fresh IP. */
function node(prefix: number): NodeContact {
  hostCounter++;
  return {
    id: randomIdWithPrefix(OWN, prefix, random),
    host: `10.0.${hostCounter >> 8}.${hostCounter & 0xff}`,
    port: 6881,
  };
}

function table(): RoutingTable {
  return new RoutingTable({ ownId: OWN, now: T0 });
}

describe('RoutingTable', () => {
  test('splits the bucket holding our own id, never a far one', () => {
    const t = table();
    for (let i = 0; i < 8; i++) assert.equal(t.heard(node(0), true, T0).outcome, 'added');
    assert.equal(t.bucketCount(4), 1);
    // A 9th node: the only bucket holds our id, so it splits; far nodes (prefix 0) stay in bucket 0.
    assert.equal(t.heard(node(3), true, T0).outcome, 'added');
    assert.equal(t.bucketCount(4), 2);
    // Bucket 0 is full and no longer ours: a 9th far node only reaches the replacement cache.
    assert.equal(t.heard(node(0), true, T0).outcome, 'replacement');
    assert.equal(t.size, 9);
    // Near nodes keep splitting the last bucket.
    for (let prefix = 1; prefix < 40; prefix++) t.heard(node(prefix), true, T0);
    assert.equal(t.size, 9 + 39);
    assert.ok(t.bucketCount(4) >= 30, `buckets: ${t.bucketCount(4)}`);
  });

  test('node states follow the 15-minute rule and consecutive failures', () => {
    const t = table();
    const a = node(0);
    const q = node(1);
    t.heard(a, true, T0);
    t.heard(q, false, T0); // queried us, never answered
    const entry = t.get(a.host, a.port)!;
    assert.equal(t.stateOf(entry, T0 + NODE_FRESH_MS - 1), 'good');
    assert.equal(t.stateOf(entry, T0 + NODE_FRESH_MS), 'questionable');
    // A node that answered once and queries us later is good again.
    t.heard(a, false, T0 + NODE_FRESH_MS + 5);
    assert.equal(t.stateOf(entry, T0 + NODE_FRESH_MS + 10), 'good');
    assert.equal(t.stateOf(t.get(q.host, q.port)!, T0), 'questionable');
    t.failed(a.host, a.port, T0);
    t.failed(a.host, a.port, T0);
    assert.notEqual(t.stateOf(entry, T0), 'bad');
    t.failed(a.host, a.port, T0);
    assert.equal(t.stateOf(entry, T0), 'bad');
    // An answer clears the failures.
    t.heard(a, true, T0 + 1);
    assert.equal(t.stateOf(entry, T0 + 1), 'good');
  });

  test('a full bucket asks for a ping of its stalest questionable node; a bad node gives way to a replacement', () => {
    const t = table();
    t.heard(node(5), true, T0); // keeps bucket 0 from being the last one after a split
    const far = Array.from({ length: 8 }, () => node(0));
    for (const [i, contact] of far.entries()) t.heard(contact, true, T0 + i);
    assert.equal(t.bucketCount(4), 2);
    const later = T0 + NODE_FRESH_MS + 100;
    const newcomer = node(0);
    const result = t.heard(newcomer, true, later);
    assert.equal(result.outcome, 'replacement');
    assert.equal(result.ping?.host, far[0]!.host, 'the least recently seen one');
    assert.equal(
      t.closest(newcomer.id, 20, 4, later).some((c) => c.host === newcomer.host),
      false,
    );
    for (let i = 0; i < 3; i++) t.failed(far[0]!.host, far[0]!.port, later);
    const hosts = t.entries().map((entry) => entry.host);
    assert.ok(hosts.includes(newcomer.host), 'the replacement moved in');
    assert.ok(!hosts.includes(far[0]!.host), 'the bad node left');
    assert.equal(t.size, 9);
  });

  test('one entry per IP: a node claiming other ids from the same address gets one slot', () => {
    const t = table();
    const first = node(2);
    assert.equal(t.heard(first, true, T0).outcome, 'added');
    for (let prefix = 0; prefix < 100; prefix++) {
      const forged = {
        id: randomIdWithPrefix(OWN, prefix % 160, random),
        host: first.host,
        port: first.port,
      };
      assert.equal(t.heard(forged, true, T0).outcome, 'rejected');
    }
    assert.equal(t.heard({ ...first, port: 9999 }, true, T0).outcome, 'rejected');
    assert.equal(t.size, 1);
    assert.equal(t.heard({ id: OWN, host: '10.9.9.9', port: 1 }, true, T0).outcome, 'rejected', 'our own id');
  });

  test('closest returns the nearest nodes first, per family, good ones only when asked', () => {
    const t = table();
    const contacts = Array.from({ length: 60 }, (_, i) => node(i % 20));
    for (const [i, contact] of contacts.entries()) t.heard(contact, i % 2 === 0, T0);
    const v6 = { id: randomIdWithPrefix(OWN, 30, random), host: 'fd00::1', port: 6881 };
    t.heard(v6, true, T0);
    const target = randomIdWithPrefix(OWN, 4, random);
    const got = t.closest(target, 8, 4, T0);
    const inTable = t.entries().filter((entry) => !entry.host.includes(':'));
    const expected = [...inTable].sort((a, b) => compareDistance(a.id, b.id, target)).slice(0, 8);
    assert.deepEqual(
      got.map((c) => c.host),
      expected.map((c) => c.host),
    );
    const good = t.closest(target, 100, 4, T0, true);
    assert.ok(good.length > 0);
    assert.ok(good.every((c) => t.get(c.host, c.port)!.lastResponse !== undefined));
    assert.deepEqual(
      t.closest(target, 8, 6, T0).map((c) => c.host),
      ['fd00::1'],
    );
  });

  test('buckets with no activity for 15 minutes ask for a refresh lookup in their range', () => {
    const t = table();
    assert.deepEqual(t.staleTargets(4, T0 + NODE_FRESH_MS, random), [], 'an empty table refreshes nothing');
    for (let prefix = 0; prefix < 12; prefix++) t.heard(node(prefix % 3), true, T0);
    const buckets = t.bucketCount(4);
    assert.deepEqual(t.staleTargets(4, T0 + NODE_FRESH_MS - 1, random), []);
    const targets = t.staleTargets(4, T0 + NODE_FRESH_MS, random);
    assert.equal(targets.length, buckets);
    for (const [index, target] of targets.entries()) assert.equal(sharedPrefixBits(OWN, target), index);
    t.refreshed(targets[0]!, 4, T0 + NODE_FRESH_MS);
    assert.equal(t.staleTargets(4, T0 + NODE_FRESH_MS, random).length, buckets - 1);
  });
});
