/**
 * Issue 15, "Thousands of trackers": the announcer keeps a few announces in flight whatever
 * the number of trackers, serves tiers in order, aborts each announce on its own controller
 * (no listeners piling up on a shared AbortSignal, so no MaxListenersExceededWarning), and
 * stops a torrent with thousands of started trackers in bounded time with bounded sockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Announcer, DEFAULT_MAX_ANNOUNCES_IN_FLIGHT } from '../../../src/tracker/announcer.js';
import type { AnnounceRequest, AnnounceResponse, TrackerClient } from '../../../src/tracker/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await flush();
}

/** Trackers that hang (until aborted) or answer, counting what is in flight at once. */
class CountingTrackers {
  readonly calls: { url: string; event: AnnounceRequest['event'] }[] = [];
  inFlight = 0;
  peak = 0;
  readonly signals = new Set<AbortSignal>();
  readonly closed: string[] = [];
  answer: (url: string, request: AnnounceRequest) => AnnounceResponse | 'hang' = () => 'hang';

  readonly createClient = (url: string): TrackerClient => ({
    url,
    announce: (request) => {
      this.calls.push({ url, event: request.event });
      const reply = this.answer(url, request);
      if (reply !== 'hang') return Promise.resolve(reply);
      this.inFlight++;
      this.peak = Math.max(this.peak, this.inFlight);
      if (request.signal) this.signals.add(request.signal);
      return new Promise((_resolve, reject) => {
        const signal = request.signal;
        assert.ok(signal, 'every announce carries a signal');
        signal.addEventListener(
          'abort',
          () => {
            this.inFlight--;
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    close: () => {
      this.closed.push(url);
    },
  });
}

function tiersOf(count: number, prefix = 'http://127.0.0.1:1/t'): string[][] {
  return Array.from({ length: count }, (_, i) => [`${prefix}${i}`]);
}

function announcerFor(tiers: string[][], trackers: CountingTrackers, clock: FakeClock, max?: number) {
  return new Announcer({
    tiers,
    infoHash: Buffer.alloc(20, 1),
    peerId: Buffer.alloc(20, 2),
    port: 6881,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 100 }),
    createClient: trackers.createClient,
    random: () => 0.999, // keeps every tier in its given order
    now: clock.now,
    timers: clock,
    ...(max === undefined ? {} : { maxAnnouncesInFlight: max }),
  });
}

describe('Announcer bounds (issue 15)', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  before(() => process.on('warning', onWarning));
  after(() => process.off('warning', onWarning));

  test('3000 silent trackers: a few announces in flight, tiers in order, no listener warning', {
    timeout: 20_000,
  }, async () => {
    warnings.length = 0;
    const clock = new FakeClock(0);
    const trackers = new CountingTrackers();
    const announcer = announcerFor(tiersOf(3000), trackers, clock);
    announcer.start();
    await settle();
    assert.equal(trackers.calls.length, DEFAULT_MAX_ANNOUNCES_IN_FLIGHT);
    // Each 30 s deadline frees the slots for the next tiers, in tier order.
    for (let round = 1; round <= 4; round++) {
      clock.advance(30_000);
      await settle();
    }
    assert.ok(trackers.peak <= DEFAULT_MAX_ANNOUNCES_IN_FLIGHT, `peak ${trackers.peak} in flight`);
    assert.deepEqual(
      trackers.calls.slice(0, 5 * DEFAULT_MAX_ANNOUNCES_IN_FLIGHT).map((call) => call.url),
      tiersOf(5 * DEFAULT_MAX_ANNOUNCES_IN_FLIGHT).map(([url]) => url),
    );
    const stopping = announcer.stop();
    clock.advance(3000);
    await stopping;
    await settle();
    assert.equal(trackers.inFlight, 0, 'stop aborted every announce');
    const listenerWarnings = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
    assert.deepEqual(listenerWarnings.map(String), []);
  });

  test('50 announces in flight share no AbortSignal: no MaxListenersExceededWarning', {
    timeout: 10_000,
  }, async () => {
    warnings.length = 0;
    const clock = new FakeClock(0);
    const trackers = new CountingTrackers();
    const announcer = announcerFor(tiersOf(50), trackers, clock, 50);
    announcer.start();
    await settle();
    assert.equal(trackers.inFlight, 50);
    assert.equal(trackers.signals.size, 50, 'one signal per announce');
    const stopping = announcer.stop();
    clock.advance(3000);
    await stopping;
    await settle();
    assert.equal(trackers.inFlight, 0);
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), []);
  });

  test('a tracker that failed is closed at once (a UDP client would hold its socket), then made anew', {
    timeout: 10_000,
  }, async () => {
    const clock = new FakeClock(0);
    const trackers = new CountingTrackers();
    const announcer = announcerFor([['udp://dead:1'], ['udp://ok:1']], trackers, clock);
    trackers.answer = (url) => (url === 'udp://ok:1' ? { interval: 1800, peers: [] } : 'hang');
    announcer.start();
    await settle();
    assert.deepEqual(trackers.closed, []);
    clock.advance(30_000); // the dead one's deadline
    await settle();
    assert.deepEqual(trackers.closed, ['udp://dead:1']);
    clock.advance(15_000); // its retry gets a fresh client
    await settle();
    assert.deepEqual(
      trackers.calls.map((call) => call.url),
      ['udp://dead:1', 'udp://ok:1', 'udp://dead:1'],
    );
    const stopping = announcer.stop();
    clock.advance(3000);
    await stopping;
  });

  test('a working tracker behind two silent tiers answers at once; failing tiers wait their turn', {
    timeout: 10_000,
  }, async () => {
    const clock = new FakeClock(0);
    const trackers = new CountingTrackers();
    trackers.answer = (url) =>
      url === 'ok' ? { interval: 1800, peers: [{ host: '10.0.0.9', port: 1 }] } : 'hang';
    const announcer = announcerFor([['s1'], ['s2'], ['ok'], ['s3'], ['s4']], trackers, clock, 3);
    const peers: string[] = [];
    announcer.on('peers', (_list, url) => peers.push(url));
    announcer.start();
    await settle();
    assert.deepEqual(peers, ['ok']);
    // s1, s2 hang in two slots; `ok` answered and freed its slot for s3; s4 waits.
    assert.deepEqual(
      trackers.calls.map((call) => call.url),
      ['s1', 's2', 'ok', 's3'],
    );
    assert.equal(trackers.inFlight, 3);
    const stopping = announcer.stop();
    clock.advance(3000);
    await stopping;
  });

  test('stop with 500 started trackers: bounded "stopped" in flight, done after stopTimeoutMs', {
    timeout: 10_000,
  }, async () => {
    warnings.length = 0;
    const clock = new FakeClock(0);
    const trackers = new CountingTrackers();
    trackers.answer = (_url, request) =>
      request.event === 'started' ? { interval: 1800, peers: [] } : 'hang';
    const announcer = announcerFor(tiersOf(500), trackers, clock);
    announcer.start();
    await settle(20);
    assert.equal(trackers.calls.filter((call) => call.event === 'started').length, 500);
    let stopped = false;
    const stopping = announcer.stop().then(() => {
      stopped = true;
    });
    await settle();
    assert.equal(trackers.inFlight, DEFAULT_MAX_ANNOUNCES_IN_FLIGHT);
    clock.advance(2999);
    await settle();
    assert.equal(stopped, false);
    clock.advance(1);
    await settle();
    assert.equal(stopped, true);
    await stopping;
    assert.ok(trackers.peak <= DEFAULT_MAX_ANNOUNCES_IN_FLIGHT, `peak ${trackers.peak} in flight`);
    assert.equal(trackers.inFlight, 0);
    assert.deepEqual(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String), []);
  });
});
