import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { admitToQueue, type QueueSlots, slotsHeld } from '../../../src/daemon/queue-admit.js';
import {
  decideQueue,
  type QueueSettings,
  type QueueState,
  type QueueTorrent,
} from '../../../src/policy/torrent-queue.js';

const settingsArb: fc.Arbitrary<QueueSettings> = fc.record({
  'download-queue-enabled': fc.boolean(),
  'download-queue-size': fc.integer({ min: 0, max: 4 }),
  'seed-queue-enabled': fc.boolean(),
  'seed-queue-size': fc.integer({ min: 0, max: 4 }),
});

const factsArb = fc.record({
  wantsToRun: fc.boolean(),
  done: fc.boolean(),
  running: fc.boolean(),
  stalled: fc.boolean(),
  bypassQueue: fc.boolean(),
  error: fc.boolean(),
  checking: fc.boolean(),
});

type Facts = Omit<QueueTorrent, 'id' | 'position'>;

function runs(state: QueueState): boolean {
  return state === 'downloading' || state === 'seeding';
}

test('a newcomer last in the queue: the decision over all equals the others unchanged plus admitToQueue', () => {
  fc.assert(
    fc.property(
      settingsArb,
      fc.array(factsArb, { maxLength: 30 }),
      factsArb,
      (settings, others, newFacts) => {
        const torrents: QueueTorrent[] = others.map((f, i) => ({ ...f, id: i + 1, position: i }));
        const newcomer: QueueTorrent = { ...newFacts, running: false, id: 1000, position: torrents.length };
        const before = decideQueue(torrents, settings);
        const after = decideQueue([...torrents, newcomer], settings);
        const admitted = admitToQueue(newcomer, slotsHeld(torrents, before), settings)!;
        assert.deepEqual(after.states, [...before.states, { id: newcomer.id, state: admitted.state }]);
        assert.deepEqual(after.toQueue, before.toQueue);
        assert.deepEqual(after.start, runs(admitted.state) ? [...before.start, newcomer.id] : before.start);
        assert.deepEqual(admitted.held, slotsHeld([...torrents, newcomer], after));
      },
    ),
    { numRuns: 2000 },
  );
});

type Op =
  | { kind: 'add'; facts: Facts }
  | { kind: 'remove'; pick: number }
  | {
      kind: 'toggle';
      pick: number;
      field: 'wantsToRun' | 'done' | 'stalled' | 'bypassQueue' | 'error' | 'checking';
    }
  | { kind: 'move'; pick: number; to: number }
  | { kind: 'checked' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: factsArb.map((facts) => ({
      kind: 'add' as const,
      // Not running, hence not stalled (the daemon's facts: stalled only while running).
      facts: { ...facts, running: false, stalled: false },
    })),
  },
  fc.nat().map((pick) => ({ kind: 'remove' as const, pick })),
  fc.record({
    kind: fc.constant('toggle' as const),
    pick: fc.nat(),
    field: fc.constantFrom(
      'wantsToRun' as const,
      'done' as const,
      'stalled' as const,
      'bypassQueue' as const,
      'error' as const,
      'checking' as const,
    ),
  }),
  fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), to: fc.nat() }),
  { weight: 2, arbitrary: fc.constant({ kind: 'checked' as const }) },
);

/**
 * The daemon's use: adds are admitted with the held counts only (O(1), no walk over the torrents);
 * every other change (remove, start/stop, done, stalled, error, check, queue move) plans from
 * scratch. After every step the states kept equal the from-scratch plan over all torrents, and
 * the held counts equal those of that plan.
 */
test('random add/remove/start/stop/move sequences: incremental adds keep the from-scratch plan', () => {
  fc.assert(
    fc.property(settingsArb, fc.array(opArb, { maxLength: 80 }), (settings, ops) => {
      let torrents: QueueTorrent[] = [];
      const states = new Map<number, QueueState>();
      let held: QueueSlots = { down: 0, up: 0 };
      let nextId = 1;
      const replan = (): void => {
        const decision = decideQueue(torrents, settings);
        for (const { id, state } of decision.states) {
          states.set(id, state);
          const t = torrents.find((item) => item.id === id)!;
          // Applied as the daemon does: started, or stopped to wait; checking ones are left alone.
          if (runs(state)) t.running = true;
          else if (state !== 'checking') t.running = false;
        }
        held = slotsHeld(torrents, decision);
      };
      for (const op of ops) {
        if (op.kind === 'add') {
          const t: QueueTorrent = { ...op.facts, id: nextId++, position: torrents.length };
          const admitted = admitToQueue(t, held, settings)!;
          held = admitted.held;
          states.set(t.id, admitted.state);
          // A new torrent's first check is started by the add itself (it takes no slot).
          if (runs(admitted.state) || t.checking) t.running = true;
          torrents.push(t);
        } else if (op.kind === 'checked') {
          // A running torrent's check ends (a new torrent's first check): admitted by the counts
          // while its direction has a free slot, else a plan over all.
          const t = torrents.find((item) => item.checking && item.running);
          if (t === undefined) continue;
          t.checking = false;
          t.stalled = false;
          const admitted = admitToQueue(t, held, settings);
          if (admitted === undefined) replan();
          else {
            held = admitted.held;
            states.set(t.id, admitted.state);
            if (!runs(admitted.state)) t.running = false;
          }
        } else if (torrents.length > 0) {
          const index = op.pick % torrents.length;
          const t = torrents[index]!;
          if (op.kind === 'remove') {
            torrents.splice(index, 1);
            states.delete(t.id);
          } else if (op.kind === 'toggle') t[op.field] = !t[op.field];
          else {
            torrents.splice(index, 1);
            torrents.splice(op.to % (torrents.length + 1), 0, t);
          }
          torrents = torrents.map((item, position) => Object.assign(item, { position }));
          replan();
        }
        const fresh = decideQueue(torrents, settings);
        assert.deepEqual(
          fresh.states,
          torrents.map((t) => ({ id: t.id, state: states.get(t.id) })),
        );
        assert.deepEqual(fresh.start, []);
        assert.deepEqual(fresh.toQueue, []);
        assert.deepEqual(held, slotsHeld(torrents, fresh));
      }
    }),
    { numRuns: 1000 },
  );
});

test('1,000 adds in a row, admitted by the counts alone, end in the from-scratch plan', () => {
  const settings: QueueSettings = {
    'download-queue-enabled': true,
    'download-queue-size': 5,
    'seed-queue-enabled': true,
    'seed-queue-size': 10,
  };
  const torrents: QueueTorrent[] = [];
  const states: Array<{ id: number; state: QueueState }> = [];
  let held: QueueSlots = { down: 0, up: 0 };
  for (let i = 0; i < 1000; i++) {
    const t: QueueTorrent = {
      id: i + 1,
      position: i,
      wantsToRun: i % 7 !== 0,
      done: i % 3 === 0,
      running: false,
      stalled: false,
      bypassQueue: i % 50 === 0,
      error: i % 97 === 0,
      checking: false,
    };
    const admitted = admitToQueue(t, held, settings)!;
    held = admitted.held;
    states.push({ id: t.id, state: admitted.state });
    t.running = runs(admitted.state);
    torrents.push(t);
  }
  const fresh = decideQueue(torrents, settings);
  assert.deepEqual(fresh.states, states);
  assert.deepEqual(held, { down: 5, up: 10 });
  assert.equal(states.filter((s) => s.state === 'download-wait').length > 0, true);
});
