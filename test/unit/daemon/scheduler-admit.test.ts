/**
 * `Scheduler.admit`: a torrent added (or whose first check ended) joins the queue by the run-slot
 * counts of the last plan, without reading the other torrents; the tick then plans once, and that
 * plan agrees with what the admits did.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Bitfield } from '../../../src/bitfield.js';
import { DaemonTorrentEntry } from '../../../src/daemon/daemon-torrent.js';
import { Scheduler } from '../../../src/daemon/scheduler.js';
import { defaultSettings } from '../../../src/daemon/settings.js';
import { trackedTorrentOf } from '../../helpers/daemon-fixture.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

function magnetEntry(id: number): DaemonTorrentEntry {
  const hash = String(id).padStart(40, '0');
  return new DaemonTorrentEntry(
    id,
    testTorrentState({ hash, magnet: `magnet:?xt=urn:btih:${hash}`, queuePosition: id - 1 }),
  );
}

function setup() {
  const list: DaemonTorrentEntry[] = [];
  let reads = 0;
  // Every read of a torrent of the list is counted (map, iteration, index).
  const torrents = new Proxy(list, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  const settings = { ...defaultSettings('/home'), 'download-queue-enabled': true, 'download-queue-size': 2 };
  const started: number[] = [];
  const stopped: number[] = [];
  const scheduler = new Scheduler({
    torrents,
    settings: () => settings,
    now: () => 1_000_000,
    start: (entry) => {
      started.push(entry.id);
      // Magnets without metadata: "running" is a fetch under way.
      entry.fetching = new AbortController();
    },
    stop: async (entry) => {
      stopped.push(entry.id);
      entry.fetching = undefined;
    },
    save: async () => undefined,
    log: () => undefined,
    closed: () => false,
  });
  return { scheduler, torrents, started, stopped, reads: () => reads };
}

describe('Scheduler.admit', { timeout: 10_000 }, () => {
  test('1,000 adds read no other torrent; the tick plans once and agrees', () => {
    const fx = setup();
    fx.scheduler.applyQueue();
    const before = fx.reads();
    for (let id = 1; id <= 1000; id++) {
      const entry = magnetEntry(id);
      entry.state.paused = false;
      fx.torrents.push(entry);
      fx.scheduler.admit(entry);
    }
    assert.equal(fx.reads() - before, 0, 'an add walked the torrents');
    assert.deepEqual(fx.started, [1, 2]);
    assert.equal(fx.torrents.filter((entry) => entry.phase === 'queued').length, 998);
    const counted = fx.reads();
    fx.scheduler.tick();
    const planTick = fx.reads() - counted;
    assert.deepEqual(fx.started, [1, 2], 'the full plan agrees with the admits');
    assert.deepEqual(fx.stopped, []);
    // Nothing admitted since: the tick only looks for seed limits and stalled torrents, no plan.
    const after = fx.reads();
    fx.scheduler.tick();
    assert.ok(fx.reads() - after < planTick, `the tick after admits planned (${planTick} reads)`);
  });

  test('a check that ends: keeps running while a slot is free, else a plan after the turn', async () => {
    const fx = setup();
    const checked = (id: number): DaemonTorrentEntry => {
      // Started by its add to check (takes no slot), now ready.
      const entry = magnetEntry(id);
      entry.state.paused = false;
      entry.verifying = true;
      entry.fetching = new AbortController();
      fx.torrents.push(entry);
      return entry;
    };
    const a = checked(1);
    const b = checked(2);
    const c = checked(3);
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.started, []);
    for (const entry of [a, b]) {
      entry.verifying = false;
      fx.scheduler.admit(entry, true);
    }
    await nextTurn();
    assert.deepEqual(fx.stopped, [], 'two slots: both keep running');
    c.verifying = false;
    fx.scheduler.admit(c, true);
    assert.deepEqual(fx.stopped, [], 'no plan in the same turn');
    await nextTurn();
    assert.deepEqual(fx.stopped, [3], 'no slot left: the plan makes it wait');
  });

  test('a seed admitted after its check completes without a plan; any other change plans after the turn', async () => {
    const fx = setup();
    const seed = (id: number): DaemonTorrentEntry => {
      const entry = magnetEntry(id);
      entry.state.paused = false;
      entry.meta = trackedTorrentOf(`s${id}.bin`, Buffer.alloc(1000, id)).meta;
      entry.lastHave = Bitfield.full(entry.meta.pieceCount);
      entry.fetching = new AbortController();
      fx.torrents.push(entry);
      return entry;
    };
    const a = seed(1);
    const b = seed(2);
    a.verifying = true;
    fx.scheduler.applyQueue();
    a.verifying = false;
    fx.scheduler.admit(a, true);
    // Its session reports 'done' right after 'ready', in the same turn.
    let reads = fx.reads();
    fx.scheduler.changed(a);
    await nextTurn();
    assert.equal(fx.reads() - reads, 0, 'planned for a completion the counts already had');
    reads = fx.reads();
    fx.scheduler.changed(b);
    assert.equal(fx.reads() - reads, 0, 'not in the same turn');
    await nextTurn();
    assert.ok(fx.reads() - reads >= fx.torrents.length, 'a change of a torrent not admitted plans');
  });
});
