/**
 * The listener's pending-handshake table as a pure policy, on compact tables: who is admitted,
 * who is evicted for them, who is refused, and how the deadline shrinks as the table fills.
 * Time is a number passed in; nothing waits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Admission, PendingTable, type PendingTableOptions } from '../../../src/peer/pending-table.js';

const T0 = 1_000_000;

function table(options: Partial<PendingTableOptions> = {}): PendingTable<string> {
  return new PendingTable<string>({
    capacity: 4,
    maxPerHost: 2,
    deadlineMs: 10_000,
    minDeadlineMs: 2000,
    minAgeMs: 1000,
    ...options,
  });
}

/** Admits each `key@host` in turn at `now` and returns the decisions. */
function fill(t: PendingTable<string>, entries: string[], now = T0): Admission<string>[] {
  return entries.map((entry) => {
    const [key, host] = entry.split('@') as [string, string];
    return t.admit(key, host, now);
  });
}

describe('PendingTable', () => {
  test('accepts while there is room, each host up to its limit', () => {
    const t = table();
    const decisions = fill(t, ['a1@A', 'a2@A', 'a3@A', 'b1@B']);
    assert.deepEqual(
      decisions.map((d) => (d.accept ? 'accept' : d.reason)),
      ['accept', 'accept', 'host-limit', 'accept'],
    );
    assert.equal(t.size, 3);
    assert.equal(t.countFor('A'), 2);
    assert.ok(!t.has('a3'));
  });

  test('full: a newcomer from a new address takes the oldest slot of the busiest address', () => {
    // Compact table: [a1@A a2@A b1@B b2@B], all just admitted (younger than minAgeMs).
    const t = table();
    fill(t, ['a1@A', 'b1@B', 'a2@A', 'b2@B']);
    const d = t.admit('c1', 'C', T0 + 10);
    assert.ok(d.accept);
    assert.deepEqual(d.evict, ['a1'], 'A and B hold 2 each; A has the oldest entry');
    assert.equal(t.countFor('A'), 1);
    assert.equal(t.size, 4);
    // Now A 1, B 2, C 1: the next newcomer from D takes B's oldest.
    const e = t.admit('d1', 'D', T0 + 20);
    assert.ok(e.accept);
    assert.deepEqual(e.evict, ['b1']);
  });

  test('full of young entries from distinct addresses: the newcomer is refused, not an honest peer', () => {
    const t = table();
    fill(t, ['a1@A', 'b1@B', 'c1@C', 'd1@D']);
    const d = t.admit('e1', 'E', T0 + 999);
    assert.deepEqual(d, { accept: false, reason: 'full', evict: [] });
    assert.equal(t.size, 4);
  });

  test('full: once the oldest entry had minAgeMs to handshake, a newcomer takes its slot', () => {
    const t = table();
    fill(t, ['a1@A', 'b1@B']);
    fill(t, ['c1@C', 'd1@D'], T0 + 500);
    const d = t.admit('e1', 'E', T0 + 1000);
    assert.ok(d.accept);
    assert.deepEqual(d.evict, ['a1']);
    assert.ok(t.has('e1') && !t.has('a1'));
  });

  test('full of addresses with one entry each: a newcomer without a silent record takes the slot of the worst record', () => {
    const t = table({ capacity: 3, maxPerHost: 1 });
    // B's first connection times out (the listener's timer), its second is refused over its limit.
    fill(t, ['b0@B']);
    t.timedOut('b0');
    assert.equal(t.strikesOf('B'), 1);
    fill(t, ['a1@A', 'b1@B', 'c1@C']);
    assert.equal(t.admit('b2', 'B', T0).accept, false);
    assert.equal(t.strikesOf('B'), 2);
    // A fresh address takes B's slot at once, whatever its age; B's record grows.
    const d = t.admit('h1', 'H', T0 + 1);
    assert.ok(d.accept);
    assert.deepEqual(d.evict, ['b1']);
    assert.equal(t.strikesOf('B'), 3);
    // Now nobody in the table has a record: another fresh address is refused (all too young)…
    assert.deepEqual(t.admit('d1', 'D', T0 + 2), { accept: false, reason: 'full', evict: [] });
    // …and B, with the longest record, cannot take anyone's slot.
    assert.deepEqual(t.admit('b3', 'B', T0 + 3), { accept: false, reason: 'full', evict: [] });
    assert.ok(t.has('h1'));
  });

  test('a host at its limit is refused even when others could be evicted', () => {
    const t = table();
    fill(t, ['a1@A', 'a2@A', 'b1@B', 'c1@C']);
    const d = t.admit('a3', 'A', T0 + 1500);
    assert.equal(d.accept, false);
    assert.equal(!d.accept && d.reason, 'host-limit');
  });

  test('a peer alone on its address is not evicted by attackers that each hold one slot', () => {
    // 8 slots, 2 per host: attackers X1..X4 hold 2 each, then honest H arrives and takes a slot.
    const t = table({ capacity: 8, minAgeMs: 1000 });
    fill(t, ['x1a@X1', 'x1b@X1', 'x2a@X2', 'x2b@X2', 'x3a@X3', 'x3b@X3', 'x4a@X4', 'x4b@X4']);
    const h = t.admit('honest', 'H', T0 + 1);
    assert.ok(h.accept);
    assert.deepEqual(h.evict, ['x1a']);
    // Attackers re-dial from their addresses within minAgeMs: each takes an attacker's slot or is refused.
    for (let i = 0; i < 50; i++) {
      const host = `X${1 + (i % 4)}`;
      const d = t.admit(`again${i}`, host, T0 + 2 + i);
      if (d.accept) assert.ok(!d.evict.includes('honest'), `re-dial ${i} evicted the honest peer`);
    }
    assert.ok(t.has('honest'));
  });

  test('the deadline is the full one up to half full, then falls linearly to the minimum', () => {
    const t = table({ capacity: 8 });
    assert.deepEqual(
      [0, 1, 4, 5, 6, 7, 8].map((n) => t.deadlineFor(n)),
      [10_000, 10_000, 10_000, 8000, 6000, 4000, 2000],
    );
    const d = fill(t, ['a@A', 'b@B', 'c@C', 'd@D', 'e@E', 'f@F']);
    assert.deepEqual(
      d.map((x) => x.accept && x.deadlineMs),
      [10_000, 10_000, 10_000, 10_000, 8000, 6000],
    );
  });

  test('under pressure, entries older than the shortened deadline are evicted on the next admission', () => {
    const t = table({ capacity: 4, maxPerHost: 4 });
    fill(t, ['a@A', 'b@B', 'c@C', 'd@D']);
    // Full table: the deadline is 2000 ms; at T0 + 2000 every entry is past it.
    const d = t.admit('e', 'E', T0 + 2000);
    assert.ok(d.accept);
    assert.deepEqual(d.evict, ['a', 'b', 'c', 'd']);
    assert.equal(t.size, 1);
    assert.equal(d.deadlineMs, 10_000, 'the table is back under half full');
  });

  test('a refused newcomer still reports entries that expired', () => {
    const t = table({ capacity: 4, maxPerHost: 1, minAgeMs: 2000 });
    fill(t, ['a@A', 'b@B']);
    fill(t, ['c@C', 'd@D'], T0 + 1900);
    const d = t.admit('c2', 'C', T0 + 2000);
    assert.deepEqual(d, { accept: false, reason: 'host-limit', evict: ['a', 'b'] });
    assert.equal(t.size, 2);
  });

  test('remove frees the slot and the host count; unknown keys are ignored', () => {
    const t = table();
    fill(t, ['a1@A', 'a2@A']);
    t.remove('a1');
    t.remove('nope');
    t.remove('a1');
    assert.equal(t.size, 1);
    assert.equal(t.countFor('A'), 1);
    assert.ok(t.admit('a3', 'A', T0).accept);
  });

  test('never holds more than its capacity, whatever the arrivals', () => {
    const t = table({ capacity: 16, maxPerHost: 3, minAgeMs: 100, minDeadlineMs: 500, deadlineMs: 3000 });
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let now = T0;
    const live: string[] = [];
    for (let i = 0; i < 5000; i++) {
      now += Math.floor(random() * 40);
      if (random() < 0.2 && live.length > 0) {
        const [gone] = live.splice(Math.floor(random() * live.length), 1);
        t.remove(gone!);
      }
      const d = t.admit(`k${i}`, `h${Math.floor(random() * 12)}`, now);
      for (const key of d.evict) live.splice(live.indexOf(key), 1);
      if (d.accept) live.push(`k${i}`);
      assert.ok(t.size <= 16);
      assert.equal(t.size, live.length);
    }
  });
});
