/**
 * The discovery probe's tracker side and its time bound, without sockets: fake tracker clients
 * and a fake clock. (Peers are probed over real loopback sockets in test/integration/doctor.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LodestoneError, TrackerError } from '../../../src/errors.js';
import { parseMagnet } from '../../../src/metainfo/magnet.js';
import { runDiscoveryProbe } from '../../../src/session/discovery-probe.js';
import type { AnnounceRequest, TrackerClient } from '../../../src/tracker/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

class FakeTrackers {
  readonly calls: { url: string; event: AnnounceRequest['event'] }[] = [];
  readonly closed: string[] = [];

  readonly create = (url: string): TrackerClient => {
    if (url.startsWith('ftp:')) throw new TrackerError(`unsupported tracker scheme ftp: in "${url}"`);
    return {
      url,
      announce: (request) => {
        this.calls.push({ url, event: request.event });
        if (url.includes('answers'))
          return Promise.resolve({ interval: 900, peers: [], seeders: 0, leechers: 2 });
        if (url.includes('fails'))
          return Promise.reject(new TrackerError('tracker says: unregistered torrent'));
        // Hangs until aborted.
        return new Promise((_resolve, reject) => {
          request.signal?.addEventListener('abort', () =>
            reject(new LodestoneError('LODESTONE_ERR_ABORTED', 'announce aborted')),
          );
        });
      },
      close: () => this.closed.push(url),
    };
  };
}

const HASH = 'cd'.repeat(20);

function magnet(...trackers: string[]): string {
  return `magnet:?xt=urn:btih:${HASH}${trackers.map((t) => `&tr=${encodeURIComponent(t)}`).join('')}`;
}

describe('runDiscoveryProbe (trackers)', { timeout: 10_000 }, () => {
  test('asks every tracker, records each outcome, ends at the time bound, says stopped only where it was counted', async () => {
    const clock = new FakeClock();
    const trackers = new FakeTrackers();
    const link = parseMagnet(
      magnet('http://answers.test/a', 'http://fails.test/a', 'http://hangs.test/a', 'ftp://bad.test/a'),
    );
    let resolved = false;
    const probe = runDiscoveryProbe({
      target: { kind: 'magnet', link },
      peerId: Buffer.alloc(20, 1),
      port: 6881,
      timeMs: 5000,
      createTrackerClient: trackers.create,
      clock,
    }).then((report) => {
      resolved = true;
      return report;
    });
    await flush();
    clock.advance(4999);
    await flush();
    assert.equal(resolved, false, 'a tracker still pending keeps the probe going until the bound');
    clock.advance(1);
    const report = await probe;
    assert.equal(report.durationMs, 5000);
    const byLabel = new Map(report.sources.map((s) => [s.label, s]));
    assert.deepEqual(
      { ...byLabel.get('http://answers.test/a'), latencyMs: 0 },
      {
        kind: 'tracker',
        label: 'http://answers.test/a',
        status: 'answered',
        peers: 0,
        tier: 0,
        intervalSeconds: 900,
        seeders: 0,
        leechers: 2,
        latencyMs: 0,
      },
    );
    assert.equal(byLabel.get('http://fails.test/a')?.status, 'failed');
    assert.equal(byLabel.get('http://fails.test/a')?.error, 'tracker says: unregistered torrent');
    assert.equal(byLabel.get('http://hangs.test/a')?.status, 'no-answer');
    assert.equal(byLabel.get('ftp://bad.test/a')?.status, 'failed');
    assert.match(byLabel.get('ftp://bad.test/a')?.error ?? '', /unsupported tracker scheme/);
    // Not pretended: listed as not used / not measured, never as having answered.
    assert.deepEqual(
      report.sources
        .filter((s) => s.kind === 'dht' || s.kind === 'pex')
        .map((s) => [s.label, s.status, s.note]),
      [
        ['DHT', 'not-used', 'off (the client runs without the DHT)'],
        ['PEX', 'not-used', 'no peer connected to ask'],
      ],
    );
    assert.deepEqual(
      trackers.calls.filter((c) => c.event === 'stopped').map((c) => c.url),
      ['http://answers.test/a'],
    );
    assert.deepEqual(trackers.closed.sort(), [
      'http://answers.test/a',
      'http://fails.test/a',
      'http://hangs.test/a',
    ]);
    assert.deepEqual(report.peers, []);
    assert.equal(report.kind, 'magnet');
    assert.equal(report.infoHash, HASH);
  });

  test('ends at once when every source has answered and no peer is left to probe', async () => {
    const clock = new FakeClock();
    const trackers = new FakeTrackers();
    const report = await runDiscoveryProbe({
      target: { kind: 'magnet', link: parseMagnet(magnet('http://answers.test/a', 'http://fails.test/b')) },
      peerId: Buffer.alloc(20, 1),
      port: 0,
      timeMs: 60_000,
      createTrackerClient: trackers.create,
      clock,
    });
    assert.equal(report.durationMs, 0);
    assert.equal(clock.pendingTimers, 0, 'no timer left behind');
  });

  test('an abort signal ends it early with what was seen', async () => {
    const clock = new FakeClock();
    const trackers = new FakeTrackers();
    const abort = new AbortController();
    const probe = runDiscoveryProbe(
      {
        target: { kind: 'magnet', link: parseMagnet(magnet('http://hangs.test/a')) },
        peerId: Buffer.alloc(20, 1),
        port: 0,
        timeMs: 60_000,
        createTrackerClient: trackers.create,
        clock,
      },
      abort.signal,
    );
    await flush();
    abort.abort();
    const report = await probe;
    assert.equal(report.sources[0]?.status, 'no-answer');
  });

  test('a torrent with 100 silent trackers: a few announces at once, all listed as not answering at the bound', async () => {
    const clock = new FakeClock();
    const trackers = new FakeTrackers();
    const urls = Array.from({ length: 100 }, (_, i) => `http://hangs${i}.test/a`);
    const probe = runDiscoveryProbe({
      target: { kind: 'magnet', link: parseMagnet(magnet(...urls)) },
      peerId: Buffer.alloc(20, 1),
      port: 0,
      timeMs: 3000,
      createTrackerClient: trackers.create,
      clock,
    });
    await flush();
    assert.equal(trackers.calls.length, 16, 'at most 16 announces in flight');
    clock.advance(3000);
    const report = await probe;
    const statuses = report.sources.filter((s) => s.kind === 'tracker').map((s) => s.status);
    assert.equal(statuses.length, 100);
    assert.ok(statuses.every((status) => status === 'no-answer'));
    assert.equal(trackers.calls.length, 16, 'none started after the bound, no stopped sent');
  });

  test('--no-trackers: no tracker is asked', async () => {
    const trackers = new FakeTrackers();
    const report = await runDiscoveryProbe({
      target: { kind: 'magnet', link: parseMagnet(magnet('http://answers.test/a')) },
      peerId: Buffer.alloc(20, 1),
      port: 0,
      timeMs: 1000,
      useTrackers: false,
      createTrackerClient: trackers.create,
      clock: new FakeClock(),
    });
    assert.equal(trackers.calls.length, 0);
    assert.deepEqual(
      report.sources.map((s) => s.kind),
      ['dht', 'pex'],
    );
  });
});
