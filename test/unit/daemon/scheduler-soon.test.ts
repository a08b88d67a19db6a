/**
 * `Scheduler.applyQueueSoon`: however many torrents ask for a plan in one turn (1,000 becoming
 * ready at a daemon's start), the queue is planned once after it; a plan made meanwhile covers it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DaemonTorrentEntry } from '../../../src/daemon/daemon-torrent.js';
import { Scheduler } from '../../../src/daemon/scheduler.js';
import { defaultSettings } from '../../../src/daemon/settings.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

function setup(count: number) {
  // Magnets without metadata: "running" is a fetch under way, started and stopped by the scheduler.
  const torrents = Array.from({ length: count }, (_, index) => {
    const hash = String(index + 1).padStart(40, '0');
    return new DaemonTorrentEntry(
      index + 1,
      testTorrentState({
        hash,
        magnet: `magnet:?xt=urn:btih:${hash}`,
        queuePosition: index,
      }),
    );
  });
  const settings = { ...defaultSettings('/home'), 'download-queue-enabled': true, 'download-queue-size': 2 };
  let plans = 0;
  const started: number[] = [];
  const scheduler = new Scheduler({
    torrents,
    settings: () => {
      plans++;
      return settings;
    },
    now: () => 1_000_000,
    start: (entry) => {
      started.push(entry.id);
      entry.fetching = new AbortController();
    },
    stop: async (entry) => {
      entry.fetching = undefined;
    },
    save: async () => undefined,
    log: () => undefined,
    closed: () => false,
  });
  return { scheduler, started, plans: () => plans };
}

describe('Scheduler.applyQueueSoon', { timeout: 10_000 }, () => {
  test('100 asks in one turn: nothing before the turn ends, then one plan', async () => {
    const fx = setup(5);
    for (let i = 0; i < 100; i++) fx.scheduler.applyQueueSoon();
    assert.equal(fx.plans(), 0);
    assert.deepEqual(fx.started, []);
    await nextTurn();
    assert.equal(fx.plans(), 1);
    assert.deepEqual(fx.started, [1, 2]);
    await nextTurn();
    assert.equal(fx.plans(), 1, 'planned again for nothing');
  });

  test('a plan made in the same turn covers the pending one', async () => {
    const fx = setup(3);
    fx.scheduler.applyQueueSoon();
    fx.scheduler.applyQueue();
    assert.equal(fx.plans(), 1);
    await nextTurn();
    assert.equal(fx.plans(), 1);
    // Asking again afterwards plans again.
    fx.scheduler.applyQueueSoon();
    await nextTurn();
    assert.equal(fx.plans(), 2);
  });
});
