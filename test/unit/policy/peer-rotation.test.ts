import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { peersToRotate, type RotationPeer, type RotationState } from '../../../src/policy/peer-rotation.js';

const NOW = 1_000_000;

/** A useless peer: nobody interested, nothing in flight, idle for `idleMs`. */
function zombie(key: string, idleMs = 60_000, extra: Partial<RotationPeer> = {}): RotationPeer {
  return {
    key,
    lastUsefulAt: NOW - idleMs,
    weAreInterested: false,
    peerInterested: false,
    busy: false,
    ...extra,
  };
}

function state(peers: RotationPeer[], extra: Partial<RotationState> = {}): RotationState {
  return { peers, maxPeers: peers.length, dialing: 0, untried: 5, ...extra };
}

describe('peersToRotate', () => {
  const cases: { name: string; state: RotationState; expected: string[] }[] = [
    {
      name: 'full, untried waiting: useless peers go',
      state: state([zombie('a'), zombie('b')]),
      expected: ['a'],
    },
    {
      name: 'slots free: nobody goes',
      state: state([zombie('a'), zombie('b')], { maxPeers: 3 }),
      expected: [],
    },
    {
      name: 'dials in progress count as taken slots',
      state: state([zombie('a')], { maxPeers: 2, dialing: 1 }),
      expected: ['a'],
    },
    {
      name: 'no untried address: nobody goes',
      state: state([zombie('a'), zombie('b')], { untried: 0 }),
      expected: [],
    },
    {
      name: 'never one we want something from',
      state: state([zombie('a', 60_000, { weAreInterested: true })]),
      expected: [],
    },
    {
      name: 'never one that wants something of us',
      state: state([zombie('a', 60_000, { peerInterested: true })]),
      expected: [],
    },
    {
      name: 'never one with blocks in flight',
      state: state([zombie('a', 60_000, { busy: true })]),
      expected: [],
    },
    { name: 'not before the grace period', state: state([zombie('a', 2_999)]), expected: [] },
    { name: 'at the grace period', state: state([zombie('a', 3_000)]), expected: ['a'] },
    {
      name: 'idlest first, at most maxPeers / 2 per round',
      state: state([
        zombie('a', 20_000),
        zombie('b', 50_000),
        zombie('c', 30_000),
        ...['d', 'e', 'f', 'g', 'h', 'i', 'j'].map((k) => zombie(k, 11_000)),
      ]),
      expected: ['b', 'c', 'a', 'd', 'e'],
    },
    {
      name: 'no more than the untried addresses waiting',
      state: state(
        ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].map((k, i) => zombie(k, 20_000 + i)),
        { untried: 1 },
      ),
      expected: ['j'],
    },
    {
      name: 'useful peers stay while useless ones go',
      state: state([
        zombie('seed', 60_000, { weAreInterested: true, busy: true }),
        zombie('leech', 60_000, { peerInterested: true }),
        zombie('zombie', 60_000),
      ]),
      expected: ['zombie'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.deepEqual(peersToRotate(c.state, NOW), c.expected);
    });
  }

  test('options override the grace period and the round size', () => {
    const peers = [zombie('a', 3_000), zombie('b', 4_000), zombie('c', 1_000)];
    assert.deepEqual(peersToRotate(state(peers), NOW, { graceMs: 2_000, maxPerRound: 5 }), ['b', 'a']);
  });
});
