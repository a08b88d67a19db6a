import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decideQueue,
  type QueueSettings,
  type QueueTorrent,
  queueAppend,
  queueMove,
  queueRemove,
  queueSetPosition,
} from '../../../src/policy/torrent-queue.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

function torrent(id: number, facts: Partial<QueueTorrent> = {}): QueueTorrent {
  return {
    id,
    position: id,
    wantsToRun: true,
    done: false,
    running: false,
    stalled: false,
    bypassQueue: false,
    error: false,
    checking: false,
    ...facts,
  };
}

function settings(down: number | false, up: number | false): QueueSettings {
  return {
    'download-queue-enabled': down !== false,
    'download-queue-size': down === false ? 5 : down,
    'seed-queue-enabled': up !== false,
    'seed-queue-size': up === false ? 5 : up,
  };
}

function stateOf(decision: ReturnType<typeof decideQueue>): Record<number, string> {
  return Object.fromEntries(decision.states.map(({ id, state }) => [id, state]));
}

describe('decideQueue', () => {
  test('at most N download and M seed at once; the rest wait in queue order', () => {
    const torrents = [
      torrent(0),
      torrent(1),
      torrent(2),
      torrent(3, { done: true }),
      torrent(4, { done: true }),
      torrent(5, { done: true }),
    ];
    const decision = decideQueue(torrents, settings(2, 1));
    assert.deepEqual(stateOf(decision), {
      0: 'downloading',
      1: 'downloading',
      2: 'download-wait',
      3: 'seeding',
      4: 'seed-wait',
      5: 'seed-wait',
    });
    assert.deepEqual(decision.start, [0, 1, 3]);
    assert.deepEqual(decision.toQueue, []);
  });

  test('a stalled running torrent keeps running and frees its slot', () => {
    const torrents = [
      torrent(0, { running: true, stalled: true }),
      torrent(1, { running: true }),
      torrent(2),
    ];
    const decision = decideQueue(torrents, settings(2, 2));
    assert.deepEqual(stateOf(decision), { 0: 'downloading', 1: 'downloading', 2: 'downloading' });
    assert.deepEqual(decision.start, [2]);
    // Stalled matters only while running: a waiting torrent marked stalled still needs a slot.
    const waiting = decideQueue(
      [torrent(0, { running: true }), torrent(1, { stalled: true })],
      settings(1, 1),
    );
    assert.deepEqual(stateOf(waiting), { 0: 'downloading', 1: 'download-wait' });
  });

  test('"start now" runs past a full queue and takes no slot', () => {
    const torrents = [torrent(0, { running: true }), torrent(1, { bypassQueue: true }), torrent(2)];
    const decision = decideQueue(torrents, settings(1, 1));
    assert.deepEqual(stateOf(decision), { 0: 'downloading', 1: 'downloading', 2: 'download-wait' });
    assert.deepEqual(decision.start, [1]);
  });

  test('moving a waiting torrent to the top does not stop a running one', () => {
    const torrents = [torrent(7, { position: 0 }), torrent(3, { position: 1, running: true })];
    const decision = decideQueue(torrents, settings(1, 1));
    assert.deepEqual(stateOf(decision), { 7: 'download-wait', 3: 'downloading' });
    assert.deepEqual(decision.toQueue, []);
  });

  test('more running than slots (size lowered, a download became a seed): the last in the queue wait', () => {
    const torrents = [
      torrent(0, { running: true, done: true }),
      torrent(1, { running: true, done: true }),
      torrent(2, { running: true, done: true }),
    ];
    const decision = decideQueue(torrents, settings(3, 1));
    assert.deepEqual(stateOf(decision), { 0: 'seeding', 1: 'seed-wait', 2: 'seed-wait' });
    assert.deepEqual(decision.toQueue, [1, 2]);
  });

  test('a disabled queue runs everything; size 0 runs nothing but "start now"', () => {
    const torrents = [torrent(0), torrent(1), torrent(2, { done: true }), torrent(3, { bypassQueue: true })];
    assert.deepEqual(decideQueue(torrents, settings(false, false)).start, [0, 1, 2, 3]);
    assert.deepEqual(stateOf(decideQueue(torrents, settings(0, 0))), {
      0: 'download-wait',
      1: 'download-wait',
      2: 'seed-wait',
      3: 'downloading',
    });
  });

  test('paused, broken and checking torrents take no part and no slot', () => {
    const torrents = [
      torrent(0, { wantsToRun: false }),
      torrent(1, { error: true, running: true }),
      torrent(2, { checking: true }),
      torrent(3),
    ];
    const decision = decideQueue(torrents, settings(1, 1));
    assert.deepEqual(stateOf(decision), { 0: 'stopped', 1: 'stopped', 2: 'checking', 3: 'downloading' });
    assert.deepEqual(decision.start, [3]);
    assert.deepEqual(decision.toQueue, []);
  });
});

// Positions may tie (a daemon mid-update); ties are broken by id.
const queueTorrents = fc
  .array(
    fc.record({
      position: fc.nat(30),
      wantsToRun: fc.boolean(),
      done: fc.boolean(),
      running: fc.boolean(),
      stalled: fc.boolean(),
      bypassQueue: fc.constantFrom(false, false, false, true),
      error: fc.constantFrom(false, false, false, true),
      checking: fc.constantFrom(false, false, false, true),
    }),
    { maxLength: 25 },
  )
  .map((facts) => facts.map((f, i) => torrent(i * 3 + 1, f)));
const queueSettings = fc.record({
  'download-queue-enabled': fc.boolean(),
  'download-queue-size': fc.nat(6),
  'seed-queue-enabled': fc.boolean(),
  'seed-queue-size': fc.nat(6),
});

/** The candidates of one direction that count against its slots. */
function counted(torrents: QueueTorrent[], done: boolean): QueueTorrent[] {
  return torrents.filter(
    (t) =>
      t.done === done &&
      t.wantsToRun &&
      !t.error &&
      !t.checking &&
      !t.bypassQueue &&
      !(t.running && t.stalled),
  );
}

describe('decideQueue properties', () => {
  test('never more than N + M running of those counted; a free slot never leaves one waiting', () => {
    fc.assert(
      fc.property(queueTorrents, queueSettings, (torrents, s) => {
        const states = stateOf(decideQueue(torrents, s));
        for (const [done, enabled, size, run, wait] of [
          [false, s['download-queue-enabled'], s['download-queue-size'], 'downloading', 'download-wait'],
          [true, s['seed-queue-enabled'], s['seed-queue-size'], 'seeding', 'seed-wait'],
        ] as const) {
          const mine = counted(torrents, done);
          const running = mine.filter((t) => states[t.id] === run).length;
          const waiting = mine.filter((t) => states[t.id] === wait).length;
          assert.equal(running + waiting, mine.length, 'every counted torrent runs or waits');
          if (enabled) assert.ok(running <= size, `${running} running > ${size}`);
          else assert.equal(waiting, 0, 'a disabled queue leaves nobody waiting');
          if (waiting > 0) assert.equal(running, size, 'one waits while a slot is free');
        }
        for (const t of torrents) {
          if (t.checking) assert.equal(states[t.id], 'checking');
          else if (!t.wantsToRun || t.error) assert.equal(states[t.id], 'stopped');
          else if (t.bypassQueue) assert.equal(states[t.id], t.done ? 'seeding' : 'downloading');
        }
      }),
      { numRuns: RUNS * 5 },
    );
  });

  test('deterministic whatever the input order; newly started ones come before waiting ones in the queue', () => {
    fc.assert(
      fc.property(
        queueTorrents.chain((t) => fc.tuple(fc.constant(t), fc.shuffledSubarray(t, { minLength: t.length }))),
        queueSettings,
        ([torrents, shuffled], s) => {
          const a = decideQueue(torrents, s);
          assert.deepEqual(decideQueue(shuffled, s), a);
          const states = stateOf(a);
          const position = new Map(torrents.map((t) => [t.id, t.position]));
          for (const [done, wait] of [
            [false, 'download-wait'],
            [true, 'seed-wait'],
          ] as const) {
            const started = a.start.filter((id) => torrents.find((t) => t.id === id)!.done === done);
            const waitingIdle = counted(torrents, done).filter((t) => !t.running && states[t.id] === wait);
            for (const id of started)
              for (const w of waitingIdle)
                if (!torrents.find((t) => t.id === id)!.bypassQueue)
                  assert.ok(
                    position.get(id)! < w.position || (position.get(id) === w.position && id < w.id),
                    `${id} started ahead of ${w.id}`,
                  );
          }
        },
      ),
      { numRuns: RUNS * 5 },
    );
  });

  test('stable: applying a decision and deciding again changes nothing', () => {
    fc.assert(
      fc.property(queueTorrents, queueSettings, (torrents, s) => {
        const first = decideQueue(torrents, s);
        const states = stateOf(first);
        const applied = torrents.map((t) => {
          const runs = states[t.id] === 'downloading' || states[t.id] === 'seeding';
          const running = t.checking ? t.running : runs;
          return { ...t, running, stalled: t.stalled && t.running && running };
        });
        const second = decideQueue(applied, s);
        assert.deepEqual(second.start, []);
        assert.deepEqual(second.toQueue, []);
        assert.deepEqual(second.states, first.states);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});

/** Transmission's `queue-move-up` as a bubble: each selected torrent swaps with an unselected one above. */
function referenceUp(order: number[], selected: Set<number>): number[] {
  const next = [...order];
  for (let i = 1; i < next.length; i++) {
    if (selected.has(next[i]!) && !selected.has(next[i - 1]!))
      [next[i - 1], next[i]] = [next[i]!, next[i - 1]!];
  }
  return next;
}

const orderAndIds = fc
  .uniqueArray(fc.nat(200), { maxLength: 30 })
  .chain((order) =>
    fc.tuple(
      fc.constant(order),
      fc.array(fc.oneof(fc.constantFrom(...order, 999), fc.nat(300)), { maxLength: 8 }),
    ),
  );

function isPermutationOf(a: number[], b: readonly number[]): void {
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    [...b].sort((x, y) => x - y),
  );
}

describe('queue order', () => {
  test('append, remove and set a position', () => {
    let order = queueAppend([], 4);
    order = queueAppend(order, 9);
    order = queueAppend(order, 2);
    assert.deepEqual(queueAppend(order, 9), [4, 9, 2], 'no duplicate');
    assert.deepEqual(queueRemove([4, 9, 2, 7], [9, 5]), [4, 2, 7]);
    assert.deepEqual(queueSetPosition([4, 9, 2, 7], 7, 1), [4, 7, 9, 2]);
    assert.deepEqual(queueSetPosition([4, 9, 2, 7], 4, 2), [9, 2, 4, 7]);
    assert.deepEqual(queueSetPosition([4, 9, 2, 7], 4, 99), [9, 2, 7, 4], 'clamped to the end');
    assert.deepEqual(queueSetPosition([4, 9, 2, 7], 7, -3), [7, 4, 9, 2], 'clamped to the top');
    assert.deepEqual(queueSetPosition([4, 9, 2, 7], 7, Number.NaN), [4, 9, 2, 7]);
    assert.deepEqual(queueSetPosition([4, 9, 2, 7], 5, 0), [4, 9, 2, 7], 'unknown id');
  });

  test("several ids at once, Transmission's way", () => {
    const order = [10, 11, 12, 13, 14, 15];
    assert.deepEqual(queueMove(order, [14, 12], 'top'), [12, 14, 10, 11, 13, 15]);
    assert.deepEqual(queueMove(order, [11, 13], 'bottom'), [10, 12, 14, 15, 11, 13]);
    assert.deepEqual(queueMove(order, [10, 11, 13], 'up'), [10, 11, 13, 12, 14, 15], 'the top block stays');
    assert.deepEqual(queueMove(order, [12, 13], 'up'), [10, 12, 13, 11, 14, 15], 'a block moves together');
    assert.deepEqual(queueMove(order, [15, 12], 'down'), [10, 11, 13, 12, 14, 15]);
    assert.deepEqual(queueMove(order, [14, 15, 11], 'down'), [10, 12, 11, 13, 14, 15]);
    assert.deepEqual(queueMove(order, [99], 'top'), order);
  });

  test('every operation keeps a permutation; moves match the reference model', () => {
    fc.assert(
      fc.property(orderAndIds, fc.nat(40), ([order, ids], position) => {
        const selected = new Set(ids.filter((id) => order.includes(id)));
        const others = order.filter((id) => !selected.has(id));
        for (const move of ['top', 'up', 'down', 'bottom'] as const) {
          const next = queueMove(order, ids, move);
          isPermutationOf(next, order);
          assert.deepEqual(
            next.filter((id) => !selected.has(id)),
            others,
            `${move}: the others keep their order`,
          );
          assert.deepEqual(
            next.filter((id) => selected.has(id)),
            order.filter((id) => selected.has(id)),
            `${move}: the moved keep their order`,
          );
        }
        const sel = order.filter((id) => selected.has(id));
        assert.deepEqual(queueMove(order, ids, 'top').slice(0, sel.length), sel);
        assert.deepEqual(queueMove(order, ids, 'bottom').slice(order.length - sel.length), sel);
        assert.deepEqual(queueMove(order, ids, 'up'), referenceUp(order, selected));
        assert.deepEqual(
          queueMove(order, ids, 'down'),
          referenceUp([...order].reverse(), selected).reverse(),
        );
        if (order.length > 0) {
          const id = order[position % order.length]!;
          const moved = queueSetPosition(order, id, position);
          isPermutationOf(moved, order);
          assert.equal(moved.indexOf(id), Math.min(position, order.length - 1));
          assert.deepEqual(
            moved.filter((x) => x !== id),
            order.filter((x) => x !== id),
          );
        }
        const removed = queueRemove(order, ids);
        assert.deepEqual(removed, others);
      }),
      { numRuns: RUNS * 5 },
    );
  });
});
