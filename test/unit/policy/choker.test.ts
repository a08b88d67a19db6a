import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ChokeCandidate, Choker } from '../../../src/policy/choker.js';

function peer(key: string, fields: Partial<ChokeCandidate> = {}): ChokeCandidate {
  return { key, interested: true, downloadRate: 0, uploadRate: 0, snubbed: false, connectedAt: 0, ...fields };
}

describe('Choker', () => {
  const now = () => 1_000_000;

  test('while downloading, unchokes the interested peers that send us the most, plus one optimistic', () => {
    const choker = new Choker({ slots: 2, random: () => 0, now });
    const decision = choker.decide(
      [
        peer('a', { downloadRate: 100 }),
        peer('b', { downloadRate: 500 }),
        peer('c', { downloadRate: 300 }),
        peer('d', { downloadRate: 900, interested: false }),
        peer('e', { downloadRate: 50 }),
      ],
      false,
    );
    assert.ok(decision.unchoke.has('b'));
    assert.ok(decision.unchoke.has('c'));
    assert.ok(!decision.unchoke.has('d'), 'uninterested peers are never unchoked');
    assert.equal(decision.unchoke.size, 3);
    assert.ok(decision.optimistic === 'a' || decision.optimistic === 'e');
  });

  test('snubbed peers are not rewarded with a regular slot', () => {
    const choker = new Choker({ slots: 1, random: () => 0.99, now });
    const decision = choker.decide(
      [peer('fast-but-snubbed', { downloadRate: 1000, snubbed: true }), peer('slow', { downloadRate: 10 })],
      false,
    );
    assert.ok(decision.unchoke.has('slow'));
    assert.equal(decision.optimistic, 'fast-but-snubbed');
  });

  test('while seeding, ranks by how fast peers take our data', () => {
    const choker = new Choker({ slots: 1, random: () => 0, now });
    const decision = choker.decide([peer('a', { uploadRate: 10 }), peer('b', { uploadRate: 99 })], true);
    assert.ok(decision.unchoke.has('b'));
  });

  test('a peer unchoked a round that took nothing (stalled: e.g. a vanished uTP peer) yields its slot', () => {
    // Four stalled peers listed first, all at rate 0 like the newcomer: without the stalled
    // rank they keep every regular slot (ties keep the order) and the newcomer waits for luck.
    const choker = new Choker({ slots: 4, random: () => 0.99, now });
    const dead = ['d1', 'd2', 'd3', 'd4', 'd5'].map((key) =>
      peer(key, { stalled: true, connectedAt: now() }),
    );
    const decision = choker.decide([...dead, peer('newcomer', { connectedAt: now() })], true);
    assert.ok(decision.unchoke.has('newcomer'), 'the live peer gets a regular slot');
    assert.notEqual(decision.optimistic, 'newcomer');
    // Stalled peers are still served when nobody else waits (it may have been a lull).
    assert.equal(decision.unchoke.size, 5);
    const downloading = new Choker({ slots: 1, random: () => 0, now }).decide(
      [peer('stalled', { stalled: true, downloadRate: 50 }), peer('other', { downloadRate: 10 })],
      false,
    );
    assert.ok(downloading.unchoke.has('other'), 'while downloading too');
  });

  test('the optimistic slot goes to a peer that is not stalled when there is one', () => {
    const choker = new Choker({ slots: 1, random: () => 0, now });
    const decision = choker.decide(
      [peer('fast', { uploadRate: 100 }), peer('stalled', { stalled: true }), peer('waiting')],
      true,
    );
    assert.ok(decision.unchoke.has('fast'));
    assert.equal(decision.optimistic, 'waiting');
  });

  test('new peers are three times as likely to get the optimistic slot', () => {
    const picks = new Map<string, number>();
    let seed = 0;
    for (let trial = 0; trial < 300; trial++) {
      const choker = new Choker({ slots: 0, random: () => (seed++ * 0.618) % 1, now });
      const decision = choker.decide(
        [peer('old', { connectedAt: 0 }), peer('new', { connectedAt: now() - 1000 })],
        false,
      );
      picks.set(decision.optimistic!, (picks.get(decision.optimistic!) ?? 0) + 1);
    }
    assert.ok((picks.get('new') ?? 0) > (picks.get('old') ?? 0) * 2, `new peers weighted up: ${[...picks]}`);
  });
});

describe('Choker: the optimistic slot follows the clock, not events', () => {
  /** A clock the test moves by hand. */
  function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
    let t = start;
    return { now: () => t, advance: (ms) => (t += ms) };
  }
  /** Three interested peers and one regular slot held by the fastest: x and y share the optimistic slot. */
  const peers = [peer('regular', { uploadRate: 1000 }), peer('x'), peer('y')];

  test('many decisions within 30 s keep the optimistic peer; the next one after 30 s rotates it', () => {
    const time = clock();
    let draws = 0;
    // A random source that would pick a different peer on every draw.
    const choker = new Choker({ slots: 1, random: () => (draws++ % 2 === 0 ? 0 : 0.99), now: time.now });
    const first = choker.decide(peers, true);
    assert.ok(first.unchoke.has('regular'));
    const holder = first.optimistic;
    assert.ok(holder === 'x' || holder === 'y');
    for (let i = 0; i < 1000; i++) {
      // Events (interest flips, peers coming and going) ask for decisions every 29 ms.
      time.advance(29);
      const decision = choker.decide(peers, true);
      assert.equal(decision.optimistic, holder, `decision ${i} at +${(i + 1) * 29} ms kept the slot`);
      assert.deepEqual([...decision.unchoke].sort(), ['regular', holder].sort());
    }
    time.advance(30_000 - 29 * 1000);
    const rotated = choker.decide(peers, true);
    assert.notEqual(rotated.optimistic, holder, '30 s after it was given, the slot goes to another peer');
    assert.ok(rotated.optimistic === 'x' || rotated.optimistic === 'y');
    time.advance(29_999);
    assert.equal(choker.decide(peers, true).optimistic, rotated.optimistic, 'kept for its own 30 s');
  });

  test('a peer flapping its interest cannot take the slot from its holder', () => {
    const time = clock();
    let draws = 0;
    const choker = new Choker({ slots: 1, random: () => (draws++ % 2 === 0 ? 0 : 0.99), now: time.now });
    // The flapper holds the slot first, then loses interest: its slot goes to the honest peer.
    const honest = peer('honest');
    const flapper = (interested: boolean): ChokeCandidate => peer('flapper', { interested });
    const first = choker.decide([peer('regular', { uploadRate: 1000 }), flapper(true), honest], true);
    assert.equal(first.optimistic, 'flapper');
    for (let i = 0; i < 10_000; i++) {
      time.advance(1);
      const decision = choker.decide(
        [peer('regular', { uploadRate: 1000 }), flapper(i % 2 === 1), honest],
        true,
      );
      assert.equal(decision.optimistic, 'honest', `flip ${i}`);
      assert.ok(decision.unchoke.has('regular') && !decision.unchoke.has('flapper'));
    }
  });

  test('a holder that leaves or loses interest is replaced at once', () => {
    const time = clock();
    const choker = new Choker({ slots: 1, random: () => 0, now: time.now });
    const first = choker.decide(peers, true).optimistic;
    time.advance(1000);
    const rest = peers.filter((p) => p.key !== first);
    const replaced = choker.decide(rest, true).optimistic;
    assert.ok(replaced !== undefined && replaced !== first && replaced !== 'regular');
    time.advance(1000);
    const uninterested = choker.decide(
      peers.map((p) => (p.key === replaced ? { ...p, interested: false } : p)),
      true,
    );
    assert.notEqual(uninterested.optimistic, replaced);
    assert.ok(!uninterested.unchoke.has(replaced));
  });

  test('the optimistic peer keeps its slot even when it becomes the fastest', () => {
    const time = clock();
    const choker = new Choker({ slots: 1, random: () => 0, now: time.now });
    const first = choker.decide(peers, true);
    time.advance(1000);
    const faster = peers.map((p) => (p.key === first.optimistic ? { ...p, uploadRate: 5000 } : p));
    const decision = choker.decide(faster, true);
    assert.equal(decision.optimistic, first.optimistic);
    assert.ok(decision.unchoke.has('regular'), 'the regular peer is not pushed out by the optimistic one');
    assert.equal(decision.unchoke.size, 2);
  });
});
