/**
 * The daemon's queue and seed-limit glue (src/daemon/scheduler.ts, queue-control.ts) over real
 * daemon torrents with a fake clock: "running" is a metadata fetch under way (no session, no
 * socket), so starts and stops are the scheduler's calls, observed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { Bitfield } from '../../../src/bitfield.js';
import { DaemonTorrentEntry } from '../../../src/daemon/daemon-torrent.js';
import { moveEntries, setEntryPosition, sizeWhenDone } from '../../../src/daemon/queue-control.js';
import { Scheduler } from '../../../src/daemon/scheduler.js';
import { defaultSettings } from '../../../src/daemon/settings.js';
import type { DaemonSettings } from '../../../src/daemon/settings-types.js';
import {
  decodeTorrentState,
  encodeTorrentState,
  type TorrentState,
} from '../../../src/daemon/torrent-state.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

const SIZE = 4 * 16384;

function entry(id: number, complete: boolean): DaemonTorrentEntry {
  const state: TorrentState = testTorrentState({
    hash: String(id).padStart(40, '0'),
    name: `t${id}`,
    queuePosition: id - 1,
  });
  const made = new DaemonTorrentEntry(id, state);
  made.meta = parseTorrent(
    encode({ info: { name: `t${id}`, 'piece length': 16384, pieces: Buffer.alloc(80), length: SIZE } }),
  );
  made.lastHave = new Bitfield(4);
  if (complete) for (let piece = 0; piece < 4; piece++) made.lastHave.set(piece);
  return made;
}

function setup(count: number, patch: Partial<DaemonSettings>, complete = false) {
  const clock = new FakeClock(1_000_000_000);
  let settings: DaemonSettings = { ...defaultSettings('/home'), ...patch };
  const torrents = Array.from({ length: count }, (_, index) => entry(index + 1, complete));
  for (const item of torrents) item.seedLimits = () => settings;
  const started: number[] = [];
  const stopped: number[] = [];
  const logs: string[] = [];
  const start = (item: DaemonTorrentEntry): void => {
    started.push(item.id);
    item.fetching = new AbortController();
    item.phase = 'running';
    item.startDateMs = clock.now();
  };
  const stop = async (item: DaemonTorrentEntry): Promise<void> => {
    stopped.push(item.id);
    item.fetching = undefined;
    item.phase = 'stopped';
  };
  const scheduler = new Scheduler({
    torrents,
    settings: () => settings,
    now: clock.now,
    start,
    stop,
    save: async () => undefined,
    log: (_level, message) => logs.push(message),
    closed: () => false,
  });
  return {
    clock,
    torrents,
    started,
    stopped,
    logs,
    scheduler,
    start,
    stop,
    set: (next: Partial<DaemonSettings>) => {
      settings = { ...settings, ...next };
    },
  };
}

const statuses = (torrents: DaemonTorrentEntry[]) => torrents.map((t) => t.summary().status);

describe('the daemon queue glue', () => {
  test('download-queue-size 1: one runs, the others wait; a stop frees the slot for the next in order', async () => {
    const fx = setup(3, { 'download-queue-enabled': true, 'download-queue-size': 1 });
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.started, [1]);
    assert.deepEqual(statuses(fx.torrents), ['downloading', 'download-wait', 'download-wait']);
    // The first completes: it leaves the download queue (the seed queue is off), the second starts.
    for (let piece = 0; piece < 4; piece++) fx.torrents[0]!.lastHave!.set(piece);
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.started, [1, 2]);
    assert.deepEqual(statuses(fx.torrents), ['seeding', 'downloading', 'download-wait']);
    fx.torrents[1]!.state.paused = true;
    await fx.stop(fx.torrents[1]!);
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.started, [1, 2, 3]);
    assert.deepEqual(statuses(fx.torrents), ['seeding', 'stopped', 'downloading']);
  });

  test('start now bypasses the queue and takes no slot', () => {
    const fx = setup(3, { 'download-queue-enabled': true, 'download-queue-size': 1 });
    fx.scheduler.applyQueue();
    fx.scheduler.prepareStart(fx.torrents[2]!, true);
    fx.start(fx.torrents[2]!);
    fx.scheduler.applyQueue();
    assert.deepEqual(statuses(fx.torrents), ['downloading', 'download-wait', 'downloading']);
    assert.deepEqual(fx.stopped, []);
  });

  test('a queue move to the top changes which one waits; a lowered size queues the one furthest down', () => {
    const fx = setup(3, { 'download-queue-enabled': true, 'download-queue-size': 2 });
    fx.scheduler.applyQueue();
    assert.deepEqual(statuses(fx.torrents), ['downloading', 'downloading', 'download-wait']);
    moveEntries(fx.torrents, [fx.torrents[2]!], 'top');
    assert.deepEqual(
      fx.torrents.map((t) => [t.id, t.state.queuePosition]),
      [
        [3, 0],
        [1, 1],
        [2, 2],
      ],
    );
    // Running torrents keep their slots; lowering the size queues the one now furthest down.
    fx.set({ 'download-queue-size': 1 });
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.stopped, [2]);
    // 1 is running and keeps its slot although 3 is above it now.
    assert.deepEqual(
      fx.torrents.map((t) => [t.id, t.summary().status]),
      [
        [3, 'download-wait'],
        [1, 'downloading'],
        [2, 'download-wait'],
      ],
    );
    setEntryPosition(fx.torrents, fx.torrents[2]!, 0);
    assert.deepEqual(
      fx.torrents.map((t) => t.id),
      [2, 3, 1],
    );
    assert.deepEqual(
      fx.torrents.map((t) => t.state.queuePosition),
      [0, 1, 2],
    );
  });

  test('a stalled download frees its slot on the tick, and takes it back when it moves again', () => {
    const fx = setup(2, {
      'download-queue-enabled': true,
      'download-queue-size': 1,
      'queue-stalled-enabled': true,
      'queue-stalled-minutes': 1,
    });
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.started, [1]);
    fx.clock.advance(59_000);
    fx.scheduler.tick();
    assert.deepEqual(fx.started, [1]);
    fx.clock.advance(1_000);
    fx.scheduler.tick();
    assert.deepEqual(fx.started, [1, 2]);
    assert.deepEqual(statuses(fx.torrents), ['downloading', 'downloading']);
    // Torrent 1 receives a block: no longer stalled, over the limit; 2 is further down and waits.
    fx.torrents[0]!.state.activityDate = fx.clock.now();
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, [2]);
    assert.deepEqual(statuses(fx.torrents), ['downloading', 'download-wait']);
  });

  test('a download that completes moves to the seed queue', () => {
    const fx = setup(2, {
      'download-queue-enabled': true,
      'download-queue-size': 5,
      'seed-queue-enabled': true,
      'seed-queue-size': 0,
    });
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.started, [1, 2]);
    for (let piece = 0; piece < 4; piece++) fx.torrents[0]!.lastHave!.set(piece);
    fx.scheduler.applyQueue();
    assert.deepEqual(fx.stopped, [1]);
    assert.deepEqual(statuses(fx.torrents), ['seed-wait', 'downloading']);
  });
});

describe('the daemon seed-limit glue', () => {
  test('the global ratio limit stops a seed at floor(size × ratio) uploaded: paused, isFinished', () => {
    const fx = setup(1, { 'ratio-limit-enabled': true, 'ratio-limit': 0.5 }, true);
    fx.scheduler.applyQueue();
    assert.equal(fx.torrents[0]!.summary().status, 'seeding');
    fx.torrents[0]!.state.uploadedEver = SIZE / 2 - 1;
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, []);
    assert.equal(fx.torrents[0]!.summary().isFinished, false);
    fx.torrents[0]!.state.uploadedEver = SIZE / 2;
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, [1]);
    const summary = fx.torrents[0]!.summary();
    assert.equal(summary.status, 'stopped');
    assert.equal(summary.isFinished, true);
    assert.equal(fx.torrents[0]!.state.paused, true);
    assert.ok(fx.logs.some((line) => /seed ratio reached/.test(line)));
    // A user start of a torrent past its ratio turns its ratio mode off (it would stop at once).
    fx.scheduler.prepareStart(fx.torrents[0]!, false);
    assert.equal(fx.torrents[0]!.state.settings.seedRatioMode, 'unlimited');
    fx.scheduler.applyQueue();
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, [1]);
    assert.equal(fx.torrents[0]!.summary().status, 'seeding');
  });

  test('the idle limit (1 minute) stops an idle seed; activity moves the deadline; isFinished until the next start', () => {
    const fx = setup(1, {}, true);
    const t = fx.torrents[0]!;
    t.state.settings = { ...t.state.settings, seedIdleMode: 'single', seedIdleLimit: 1 };
    fx.scheduler.applyQueue();
    fx.clock.advance(30_000);
    t.state.activityDate = fx.clock.now();
    fx.clock.advance(59_999);
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, []);
    fx.clock.advance(1);
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, [1]);
    assert.equal(t.summary().status, 'stopped');
    assert.equal(t.summary().isFinished, true);
    assert.ok(fx.logs.some((line) => /seed idle limit reached/.test(line)));
    fx.scheduler.prepareStart(t, false);
    assert.equal(t.summary().isFinished, false);
  });

  test('a seed stopped by the idle limit is still finished and paused after a restart (the state keeps it)', () => {
    const fx = setup(1, {}, true);
    const t = fx.torrents[0]!;
    t.state.settings = { ...t.state.settings, seedIdleMode: 'single', seedIdleLimit: 1 };
    fx.scheduler.applyQueue();
    fx.clock.advance(60_001);
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, [1]);
    // The daemon writes the state after the stop; a restart reads it back into a new entry.
    const restored = new DaemonTorrentEntry(7, decodeTorrentState(encodeTorrentState(t.state)));
    restored.meta = t.meta;
    restored.lastHave = t.lastHave;
    restored.seedLimits = t.seedLimits;
    assert.equal(restored.stoppedByIdle, true);
    assert.equal(restored.state.paused, true);
    assert.equal(restored.summary().isFinished, true);
    // A user start clears it, in the state too.
    fx.scheduler.prepareStart(t, false);
    assert.equal(decodeTorrentState(encodeTorrentState(t.state)).stoppedByIdle, undefined);
  });

  test('no limit: a seed runs on, whatever it uploaded', () => {
    const fx = setup(1, { 'ratio-limit-enabled': false, 'idle-seeding-limit-enabled': false }, true);
    fx.scheduler.applyQueue();
    fx.torrents[0]!.state.uploadedEver = SIZE * 100;
    fx.clock.advance(24 * 3_600_000);
    fx.scheduler.tick();
    assert.deepEqual(fx.stopped, []);
    assert.equal(fx.torrents[0]!.summary().isFinished, false);
  });
});

describe('the facts the tick reads', () => {
  test('complete follows verified pieces and the file selection (memoised, never stale)', () => {
    const t = entry(1, false);
    // Two files of two pieces each: a (pieces 0–1) and b (pieces 2–3).
    t.meta = parseTorrent(
      encode({
        info: {
          name: 'two',
          'piece length': 16384,
          pieces: Buffer.alloc(80),
          files: [
            { length: 2 * 16384, path: ['a'] },
            { length: 2 * 16384, path: ['b'] },
          ],
        },
      }),
    );
    t.lastHave!.set(0);
    t.lastHave!.set(1);
    assert.equal(t.complete, false);
    assert.equal(sizeWhenDone(t), 4 * 16384);
    t.state.filesWanted = [true, false];
    assert.equal(t.complete, true, 'only a is wanted, and it is verified');
    assert.equal(sizeWhenDone(t), 2 * 16384);
    t.state.filesWanted = [true, true];
    assert.equal(t.complete, false);
    assert.equal(sizeWhenDone(t), 4 * 16384);
    t.lastHave!.set(2);
    t.lastHave!.set(3);
    assert.equal(t.complete, true);
  });
});
