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

  test('the optimistic slot rotates every third round and favours new peers', () => {
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

    const choker = new Choker({ slots: 0, random: () => 0, now });
    const peers = [peer('x'), peer('y')];
    const first = choker.decide(peers, false).optimistic;
    assert.equal(choker.decide(peers, false).optimistic, first);
    assert.equal(choker.decide(peers, false).optimistic, first);
  });
});
