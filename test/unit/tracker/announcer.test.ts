import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerAddress } from '../../../src/address.js';
import { TrackerError } from '../../../src/errors.js';
import { Announcer, type AnnouncerOptions, type AnnouncerTimers } from '../../../src/tracker/announcer.js';
import type { AnnounceRequest, AnnounceResponse, TrackerClient } from '../../../src/tracker/types.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements AnnouncerTimers {
  time = 0;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();
  #nextId = 1;

  readonly now = () => this.time;

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.time + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await flush();
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && timer.at < nextAt) {
          nextAt = timer.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.time = nextAt;
      timer.callback();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

type Reply = AnnounceResponse | Error | 'hang' | Promise<AnnounceResponse>;

interface Call {
  url: string;
  at: number;
  request: AnnounceRequest;
}

/** Fake trackers: each URL answers from a script (default: interval 1800, one peer). */
class FakeTrackers {
  readonly calls: Call[] = [];
  readonly closed = new Set<string>();
  readonly replies = new Map<string, (request: AnnounceRequest) => Reply>();
  constructor(readonly clock: FakeClock) {}

  readonly createClient = (url: string): TrackerClient => ({
    url,
    announce: (request) => {
      this.calls.push({ url, at: this.clock.time, request });
      const reply = this.replies.get(url)?.(request) ?? { interval: 1800, peers: [peerOf(url)] };
      if (reply === 'hang') {
        return new Promise((_resolve, reject) => {
          request.signal?.addEventListener('abort', () => reject(request.signal?.reason), { once: true });
        });
      }
      if (reply instanceof Promise) return reply;
      return reply instanceof Error ? Promise.reject(reply) : Promise.resolve(reply);
    },
    close: () => this.closed.add(url),
  });

  callsTo(url: string): Call[] {
    return this.calls.filter((call) => call.url === url);
  }
}

function peerOf(url: string): PeerAddress {
  return { host: '10.0.0.1', port: 1000 + url.length };
}

function setup(tiers: string[][], overrides: Partial<AnnouncerOptions> = {}) {
  const clock = new FakeClock();
  const trackers = new FakeTrackers(clock);
  const announcer = new Announcer({
    tiers,
    infoHash: Buffer.alloc(20, 1),
    peerId: Buffer.alloc(20, 2),
    port: 6881,
    stats: () => ({ uploaded: 5, downloaded: 6, left: 7 }),
    createClient: trackers.createClient,
    random: () => 0.999, // keeps every tier in its given order
    now: clock.now,
    timers: clock,
    ...overrides,
  });
  const errors: { url: string; error: Error }[] = [];
  const peers: { url: string; peers: PeerAddress[] }[] = [];
  announcer.on('announce-error', (info) => errors.push(info));
  announcer.on('peers', (list, url) => peers.push({ url, peers: list }));
  return { clock, trackers, announcer, errors, peers };
}

const failure = () => new TrackerError('tracker failure: down');

describe('Announcer', () => {
  test('shuffles each tier once with the injected random source', () => {
    const { announcer } = setup([['a', 'b', 'c'], ['d']], { random: () => 0 });
    assert.deepEqual(announcer.tiers, [['b', 'c', 'a'], ['d']]);
  });

  test('drops empty tiers and URLs already listed in an earlier tier', () => {
    const { announcer } = setup([['a', ' b '], [], ['b', 'c'], ['a']]);
    assert.deepEqual(announcer.tiers, [['a', 'b'], ['c']]);
  });

  test('start announces "started" to the first tracker of every tier in parallel', async () => {
    const { clock, trackers, announcer, peers } = setup([['http://a'], ['udp://b:1', 'http://c']]);
    announcer.start();
    await clock.advance(0);
    assert.deepEqual(
      trackers.calls.map((call) => [call.url, call.request.event]),
      [
        ['http://a', 'started'],
        ['udp://b:1', 'started'],
      ],
    );
    const first = trackers.calls[0]!.request;
    assert.equal(first.left, 7);
    assert.equal(first.uploaded, 5);
    assert.equal(first.port, 6881);
    assert.equal(first.numwant, 50);
    assert.equal(first.key, trackers.calls[1]!.request.key);
    assert.deepEqual(
      peers.map((p) => p.url),
      ['http://a', 'udp://b:1'],
    );
    await announcer.stop();
  });

  test('falls back within a tier and promotes the tracker that answered', async () => {
    const { clock, trackers, announcer, errors } = setup([['a', 'b', 'c']]);
    trackers.replies.set('a', failure);
    announcer.start();
    await clock.advance(0);
    assert.deepEqual(
      trackers.calls.map((call) => [call.url, call.request.event]),
      [
        ['a', 'started'],
        ['b', 'started'],
      ],
    );
    assert.deepEqual(
      errors.map((e) => e.url),
      ['a'],
    );
    assert.deepEqual(announcer.tiers, [['b', 'a', 'c']]);
    // The next regular announce goes to the promoted tracker, with no event.
    await clock.advance(1800_000);
    assert.deepEqual(trackers.calls.at(-1)!.url, 'b');
    assert.equal(trackers.calls.at(-1)!.request.event, undefined);
    await announcer.stop();
  });

  test('a hanging tracker never blocks another tier', async () => {
    const { clock, trackers, announcer, peers } = setup([['slow'], ['fast']]);
    trackers.replies.set('slow', () => 'hang');
    announcer.start();
    await clock.advance(0);
    assert.deepEqual(
      peers.map((p) => p.url),
      ['fast'],
    );
    // The hanging tracker may have registered us, so it gets a (hanging) stopped too: stop waits it out.
    const stopping = announcer.stop();
    await clock.advance(3000);
    await stopping;
  });

  test('re-announces after max(interval, min interval)', async () => {
    const { clock, trackers, announcer } = setup([['a'], ['b']]);
    trackers.replies.set('a', () => ({ interval: 120, peers: [] }));
    trackers.replies.set('b', () => ({ interval: 120, minInterval: 300, peers: [] }));
    announcer.start();
    await clock.advance(119_999);
    assert.equal(trackers.calls.length, 2);
    await clock.advance(1);
    assert.deepEqual(
      trackers.calls.map((call) => [call.url, call.at, call.request.event]),
      [
        ['a', 0, 'started'],
        ['b', 0, 'started'],
        ['a', 120_000, undefined],
      ],
    );
    await clock.advance(180_000);
    assert.deepEqual(
      trackers.callsTo('b').map((call) => call.at),
      [0, 300_000],
    );
    await announcer.stop();
  });

  test('retries a failing tier with doubling back-off, capped', async () => {
    const { clock, trackers, announcer } = setup([['a', 'b']], { retryBaseMs: 1000, retryMaxMs: 5000 });
    trackers.replies.set('a', failure);
    trackers.replies.set('b', failure);
    announcer.start();
    await clock.advance(20_000);
    assert.deepEqual(
      trackers.callsTo('a').map((call) => call.at),
      [0, 1000, 3000, 7000, 12_000, 17_000],
    );
    // Once one answers, back to the tracker's interval.
    trackers.replies.delete('b');
    await clock.advance(3000);
    assert.deepEqual(announcer.tiers, [['b', 'a']]);
    const count = trackers.calls.length;
    await clock.advance(1798_000);
    assert.equal(trackers.calls.length, count);
    await clock.advance(1000);
    assert.deepEqual(trackers.calls.at(-1), {
      url: 'b',
      at: 1822_000,
      request: trackers.calls.at(-1)!.request,
    });
    await announcer.stop();
  });

  test('does not throw on failures without an error listener', async () => {
    const clock = new FakeClock();
    const trackers = new FakeTrackers(clock);
    trackers.replies.set('a', failure);
    const announcer = new Announcer({
      tiers: [['a', 'wss://unsupported']],
      infoHash: Buffer.alloc(20),
      peerId: Buffer.alloc(20),
      port: 1,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 0 }),
      createClient: (url) => {
        if (url.startsWith('wss:')) throw new TrackerError('unsupported tracker scheme wss:');
        return trackers.createClient(url);
      },
      now: clock.now,
      timers: clock,
    });
    announcer.start();
    await clock.advance(60_000);
    assert.ok(trackers.calls.length >= 2);
    await announcer.stop();
  });

  test('announceNow respects min interval, or the default gap without one', async () => {
    const { clock, trackers, announcer } = setup([['a'], ['b']], { minAnnounceGapMs: 45_000 });
    trackers.replies.set('a', () => ({ interval: 1800, minInterval: 30, peers: [] }));
    announcer.start();
    await clock.advance(10_000);
    announcer.announceNow();
    await clock.advance(19_999);
    assert.equal(trackers.calls.length, 2);
    await clock.advance(1);
    assert.deepEqual(
      trackers.callsTo('a').map((call) => call.at),
      [0, 30_000],
    );
    await clock.advance(15_000);
    assert.deepEqual(
      trackers.callsTo('b').map((call) => call.at),
      [0, 45_000],
    );
    // Right after those announces, asking again waits again.
    announcer.announceNow();
    await clock.advance(1000);
    assert.equal(trackers.calls.length, 4);
    await announcer.stop();
  });

  test('completed goes to the tiers that started; a tier that never started says "started"', async () => {
    const { clock, trackers, announcer } = setup([['a'], ['b']], { retryBaseMs: 10_000 });
    trackers.replies.set('b', failure);
    announcer.start();
    await clock.advance(1000);
    announcer.completed();
    await clock.advance(0);
    assert.deepEqual(
      trackers.callsTo('a').map((call) => call.request.event),
      ['started', 'completed'],
    );
    assert.deepEqual(
      trackers.callsTo('b').map((call) => call.request.event),
      ['started'],
    );
    trackers.replies.delete('b');
    await clock.advance(10_000);
    assert.deepEqual(
      trackers.callsTo('b').map((call) => call.request.event),
      ['started', 'started'],
    );
    // Completed is sent once; the next regular announce has no event.
    await clock.advance(1800_000);
    assert.equal(trackers.callsTo('a').at(-1)!.request.event, undefined);
    await announcer.stop();
  });

  test('completed while an announce is in flight is sent right after it', async () => {
    const { clock, trackers, announcer } = setup([['a']]);
    announcer.start();
    await clock.advance(0);
    let release: (response: AnnounceResponse) => void = () => undefined;
    trackers.replies.set('a', () => new Promise((resolve) => (release = resolve)));
    await clock.advance(1800_000); // regular announce, left hanging
    announcer.completed();
    assert.equal(trackers.calls.length, 2);
    trackers.replies.delete('a');
    release({ interval: 1800, peers: [] });
    await clock.advance(0);
    assert.deepEqual(
      trackers.callsTo('a').map((call) => [call.at, call.request.event]),
      [
        [0, 'started'],
        [1800_000, undefined],
        [1800_000, 'completed'],
      ],
    );
    await announcer.stop();
  });

  test('completed during the first "started" follows it once it is accepted', async () => {
    const { clock, trackers, announcer } = setup([['a']]);
    let release: (response: AnnounceResponse) => void = () => undefined;
    trackers.replies.set('a', () => new Promise((resolve) => (release = resolve)));
    announcer.start();
    await clock.advance(0);
    announcer.completed();
    trackers.replies.delete('a');
    release({ interval: 1800, peers: [] });
    await clock.advance(0);
    assert.deepEqual(
      trackers.callsTo('a').map((call) => call.request.event),
      ['started', 'completed'],
    );
    await announcer.stop();
  });

  test('stop sends "stopped" to started trackers, closes clients and clears timers', async () => {
    const { clock, trackers, announcer } = setup([['a', 'b'], ['c']]);
    trackers.replies.set('a', failure);
    announcer.start();
    await clock.advance(0);
    await announcer.stop();
    const stopped = trackers.calls.filter((call) => call.request.event === 'stopped');
    assert.deepEqual(stopped.map((call) => call.url).sort(), ['b', 'c']);
    assert.equal(stopped[0]!.request.numwant, 0);
    assert.deepEqual([...trackers.closed].sort(), ['a', 'b', 'c']);
    assert.equal(clock.pendingTimers, 0);
    const count = trackers.calls.length;
    announcer.announceNow();
    announcer.completed();
    await clock.advance(3600_000);
    assert.equal(trackers.calls.length, count);
  });

  test('stop gives up on a tracker that does not answer after stopTimeoutMs', async () => {
    const { clock, trackers, announcer } = setup([['a']], { stopTimeoutMs: 3000 });
    announcer.start();
    await clock.advance(0);
    trackers.replies.set('a', () => 'hang');
    let stopped = false;
    const stopping = announcer.stop().then(() => {
      stopped = true;
    });
    await clock.advance(2999);
    assert.equal(stopped, false);
    await clock.advance(1);
    await stopping;
    assert.equal(stopped, true);
    assert.equal(trackers.closed.has('a'), true);
  });

  test('an in-flight "started" is aborted by stop and followed by "stopped"', async () => {
    const { clock, trackers, announcer, errors } = setup([['a']]);
    trackers.replies.set('a', (request) =>
      request.event === 'started' ? 'hang' : { interval: 60, peers: [] },
    );
    announcer.start();
    await clock.advance(0);
    await announcer.stop();
    assert.deepEqual(
      trackers.calls.map((call) => call.request.event),
      ['started', 'stopped'],
    );
    assert.equal(errors.length, 0);
  });
});
