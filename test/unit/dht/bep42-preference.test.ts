/**
 * BEP 42 for others' ids (libtorrent's `dht_prefer_verified_node_ids`): in a full bucket an
 * unverified node gives way to a verified one that answered us; unverified nodes are never
 * refused while there is room, and wait in the replacement cache; verified replacements move in
 * first. Public addresses (documentation ranges are not exempt from BEP 42); time passed in.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { NodeContact } from '../../../src/dht/messages.js';
import { randomIdWithPrefix, sharedPrefixBits } from '../../../src/dht/node-id.js';
import { RoutingTable } from '../../../src/dht/routing-table.js';
import { isSecureNodeId, secureNodeId } from '../../../src/dht/secure-id.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const T0 = 1_000_000;
const OWN = new Uint8Array(20); // all zeros: bucket 0 holds ids whose first bit is 1
const random = seededRandom(42);
let counter = 0;
const nextHost = (): string => {
  counter++;
  return `203.0.${counter >> 8}.${counter & 0xff}`;
};

/** An unverified node in bucket 0 (first bit 1) on a fresh public IP. */
function unverified(): NodeContact {
  for (;;) {
    const contact = { id: randomIdWithPrefix(OWN, 0, random), host: nextHost(), port: 6881 };
    if (!isSecureNodeId(contact.id, contact.host)) return contact;
  }
}

/** A verified node (id derived from its IP) in bucket 0. */
function verified(): NodeContact {
  for (;;) {
    const host = nextHost();
    const id = secureNodeId(host, random)!;
    if (sharedPrefixBits(OWN, id) === 0) return { id, host, port: 6881 };
  }
}

/** A table whose bucket 0 is full of `fill` nodes and is no longer the splittable one. */
function fullFarBucket(fill: () => NodeContact, options: { preferVerified?: boolean } = {}) {
  const t = new RoutingTable({ ownId: OWN, now: T0, ...options });
  const nodes = Array.from({ length: 8 }, fill);
  for (const n of nodes) assert.equal(t.heard(n, true, T0).outcome, 'added');
  // A near node splits the only bucket: bucket 0 (far) is full and can no longer split.
  t.heard({ id: randomIdWithPrefix(OWN, 5, random), host: nextHost(), port: 6881 }, true, T0);
  assert.equal(t.bucketCount(4), 2);
  return { t, nodes };
}

const inTable = (t: RoutingTable, n: NodeContact): boolean => t.entries().some((e) => e.host === n.host);

describe('BEP 42 preference in the routing table', () => {
  test('a verified node that answered takes an unverified one’s place; the evicted one waits as a replacement', () => {
    const { t, nodes } = fullFarBucket(unverified);
    // The least recently heard unverified node gives way.
    for (const n of nodes.slice(1)) t.heard(n, true, T0 + 10);
    const v = verified();
    assert.equal(t.heard(v, true, T0 + 20).outcome, 'added');
    assert.ok(inTable(t, v));
    assert.ok(!inTable(t, nodes[0]!), 'the stalest unverified node left the bucket');
    assert.ok(t.get(nodes[0]!.host, nodes[0]!.port), 'but is kept in the replacement cache');
    assert.equal(t.get(v.host, v.port)!.verified, true);
    assert.equal(t.get(nodes[1]!.host, nodes[1]!.port)!.verified, false);
  });

  test('unverified nodes are never refused outright; a verified one that only queried us does not evict', () => {
    const t = new RoutingTable({ ownId: OWN, now: T0 });
    assert.equal(t.heard(unverified(), true, T0).outcome, 'added', 'room: an unverified node gets in');
    const { t: full } = fullFarBucket(unverified);
    assert.equal(full.heard(verified(), false, T0).outcome, 'replacement', 'a query proves nothing');
    assert.equal(full.heard(unverified(), true, T0).outcome, 'replacement');
  });

  test('a full bucket of verified nodes is not disturbed by another verified node', () => {
    const { t, nodes } = fullFarBucket(verified);
    assert.equal(t.heard(verified(), true, T0 + 1).outcome, 'replacement');
    for (const n of nodes) assert.ok(inTable(t, n));
  });

  test('off (preferVerified: false): a full bucket keeps its unverified nodes', () => {
    const { t } = fullFarBucket(unverified, { preferVerified: false });
    assert.equal(t.heard(verified(), true, T0 + 1).outcome, 'replacement');
  });

  test('a bad node is replaced by a verified good replacement before a more recent unverified one', () => {
    const { t, nodes } = fullFarBucket(verified);
    const v = verified();
    const u = unverified();
    t.heard(v, true, T0 + 1);
    t.heard(u, true, T0 + 2); // more recent, but unverified
    const dying = nodes[0]!;
    for (let i = 0; i < 3; i++) t.failed(dying.host, dying.port, T0 + 3);
    assert.ok(!inTable(t, dying));
    assert.ok(inTable(t, v), 'the verified replacement moved in');
    assert.ok(!inTable(t, u));
  });

  test('a full replacement cache drops an unverified replacement for a verified newcomer', () => {
    const { t } = fullFarBucket(verified);
    const waiting = [verified(), ...Array.from({ length: 7 }, unverified)];
    for (const n of waiting) assert.equal(t.heard(n, true, T0 + 1).outcome, 'replacement');
    const v = verified();
    assert.equal(t.heard(v, true, T0 + 2).outcome, 'replacement');
    assert.ok(t.get(v.host, v.port), 'the verified newcomer waits in the cache');
    assert.ok(t.get(waiting[0]!.host, waiting[0]!.port), 'the oldest, verified, stays');
    assert.equal(t.get(waiting[1]!.host, waiting[1]!.port), undefined, 'the oldest unverified one left');
  });
});
