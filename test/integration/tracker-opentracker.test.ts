import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { formatAddress } from '../../src/address.js';
import { TrackerError } from '../../src/errors.js';
import { Announcer } from '../../src/tracker/announcer.js';
import { HttpTracker } from '../../src/tracker/http-tracker.js';
import type { AnnounceRequest, TrackerClient } from '../../src/tracker/types.js';
import { UdpTracker } from '../../src/tracker/udp-tracker.js';
import { type RunningOpentracker, startOpentracker } from '../helpers/opentracker.js';
import { requireTool } from '../helpers/tools.js';

function peer(infoHash: Buffer, port: number, left: number): AnnounceRequest {
  return {
    infoHash,
    peerId: Buffer.from(`-LS0001-${String(port).padStart(12, '0')}`),
    port,
    uploaded: 0,
    downloaded: 0,
    left,
    key: port,
  };
}

const addresses = (peers: { host: string; port: number }[]) => peers.map(formatAddress);

async function withOpentracker(
  infoHashes: Buffer[],
  body: (tracker: RunningOpentracker) => Promise<void>,
): Promise<void> {
  const tracker = await startOpentracker({ infoHashes: infoHashes.map((hash) => hash.toString('hex')) });
  try {
    await body(tracker);
  } finally {
    await tracker.stop();
  }
}

/** Seeder A announces, leecher B sees A; A stops, B no longer sees it. */
async function swarmRoundTrip(first: TrackerClient, second: TrackerClient, infoHash: Buffer): Promise<void> {
  const seeder = peer(infoHash, 41001, 0);
  const leecher = peer(infoHash, 41002, 1000);
  const seederAnswer = await first.announce({ ...seeder, event: 'started' });
  assert.ok(seederAnswer.interval >= 60);
  const leecherAnswer = await second.announce({ ...leecher, event: 'started' });
  // opentracker takes the peer's IP from the source address of the request.
  assert.ok(
    addresses(leecherAnswer.peers).includes('127.0.0.1:41001'),
    String(addresses(leecherAnswer.peers)),
  );
  assert.equal(leecherAnswer.seeders, 1);
  await first.announce({ ...seeder, event: 'stopped' });
  const after = await second.announce(leecher);
  assert.ok(!addresses(after.peers).includes('127.0.0.1:41001'), String(addresses(after.peers)));
}

describe('tracker clients against a real opentracker', () => {
  test('HTTP: a second peer gets the first back, and stopped removes it', async (t) => {
    if (!requireTool(t, 'opentracker')) return;
    const infoHash = randomBytes(20);
    await withOpentracker([infoHash], async (tracker) => {
      const first = new HttpTracker(tracker.httpUrl);
      const second = new HttpTracker(tracker.httpUrl);
      await swarmRoundTrip(first, second, infoHash);
    });
  });

  test('UDP: a second peer gets the first back, and stopped removes it', async (t) => {
    if (!requireTool(t, 'opentracker')) return;
    const infoHash = randomBytes(20);
    await withOpentracker([infoHash], async (tracker) => {
      const first = new UdpTracker(tracker.udpUrl, { baseTimeoutMs: 1000, maxRetries: 2 });
      const second = new UdpTracker(tracker.udpUrl, { baseTimeoutMs: 1000, maxRetries: 2 });
      try {
        await swarmRoundTrip(first, second, infoHash);
      } finally {
        first.close();
        second.close();
      }
    });
  });

  test('HTTP and UDP announces share one swarm', async (t) => {
    if (!requireTool(t, 'opentracker')) return;
    const infoHash = randomBytes(20);
    await withOpentracker([infoHash], async (tracker) => {
      const udp = new UdpTracker(tracker.udpUrl, { baseTimeoutMs: 1000, maxRetries: 2 });
      try {
        await swarmRoundTrip(new HttpTracker(tracker.httpUrl), udp, infoHash);
      } finally {
        udp.close();
      }
    });
  });

  test('a hash that is not whitelisted is refused with the failure reason, until it is added', async (t) => {
    if (!requireTool(t, 'opentracker')) return;
    const listed = randomBytes(20);
    const unlisted = randomBytes(20);
    await withOpentracker([listed], async (tracker) => {
      const http = new HttpTracker(tracker.httpUrl);
      await assert.rejects(http.announce(peer(unlisted, 41003, 5)), (error: unknown) => {
        assert.ok(error instanceof TrackerError);
        assert.match(error.message, /Requested download is not authorized/);
        return true;
      });
      const udp = new UdpTracker(tracker.udpUrl, { baseTimeoutMs: 300, maxRetries: 1 });
      try {
        // Over UDP opentracker answers a bare 8-byte announce header instead of an error.
        await assert.rejects(udp.announce(peer(unlisted, 41003, 5)), (error: unknown) => {
          assert.ok(error instanceof TrackerError);
          assert.match(error.message, /refused the announce/);
          return true;
        });
        await tracker.addInfoHash(unlisted.toString('hex'));
        const answer = await http.announce({ ...peer(unlisted, 41003, 5), event: 'started' });
        assert.ok(addresses(answer.peers).includes('127.0.0.1:41003'));
        await udp.announce({ ...peer(unlisted, 41004, 5), event: 'started' });
      } finally {
        udp.close();
      }
    });
  });

  test('an Announcer with an HTTP tier and a UDP tier hears from both', async (t) => {
    if (!requireTool(t, 'opentracker')) return;
    const infoHash = randomBytes(20);
    await withOpentracker([infoHash], async (tracker) => {
      const announcer = new Announcer({
        tiers: [[tracker.httpUrl], [tracker.udpUrl]],
        infoHash,
        peerId: Buffer.from('-LS0001-announcer001'),
        port: 41010,
        stats: () => ({ uploaded: 0, downloaded: 0, left: 10 }),
      });
      const answered = new Set<string>();
      const bothAnswered = new Promise<void>((resolve) => {
        announcer.on('response', ({ url }) => {
          answered.add(url);
          if (answered.size === 2) resolve();
        });
      });
      const failures: string[] = [];
      announcer.on('announce-error', ({ url, error }) => failures.push(`${url}: ${error.message}`));
      announcer.start();
      try {
        await Promise.race([
          bothAnswered,
          once(AbortSignal.timeout(10_000), 'abort').then(() => assert.fail(`no answers: ${failures}`)),
        ]);
      } finally {
        await announcer.stop();
      }
      // stopped reached the tracker: a fresh peer no longer sees the announcer.
      const check = await new HttpTracker(tracker.httpUrl).announce(peer(infoHash, 41011, 10));
      assert.ok(!addresses(check.peers).includes('127.0.0.1:41010'), String(addresses(check.peers)));
    });
  });
});
