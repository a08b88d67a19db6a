import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  describeRate,
  leech,
  MiB,
  measureRate,
  seedRandom,
  started,
  startLeecher,
  tempRoot,
  within,
} from '../helpers/rate-swarm.js';

// Measured behaviour, not speed: each test asserts the band, ±10 % of the limit over
// 10 s, from the bytes actually moved between two timestamps after a warm-up second. An
// unlimited loopback transfer of these sizes runs at hundreds of MB/s, so an ineffective
// limiter finishes the torrent (or overshoots) long before the window closes.

const WARM_UP_MS = 1000;
const WINDOW_MS = 10_000;

test('a client-wide download limit of 2 MB/s over plain TCP holds within ±10 % over 10 s', {
  timeout: 60_000,
}, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-down-');
  const { meta, seeder } = await seedRandom(t, root, 'down.bin', 32 * MiB, '127.0.0.2');
  const leecher = await startLeecher(t, '127.0.0.3', {
    downloadLimit: 2_000_000,
    utp: false,
    encryption: 'disable',
  });
  const session = await leech(leecher, meta, join(root, 'leech'), [seeder.address]);
  const bytes = (): number => session.stats().downloadedBytes;
  await started(bytes);
  const rate = await measureRate(bytes, WARM_UP_MS, WINDOW_MS);
  t.diagnostic(describeRate(rate, 2_000_000));
  const kinds = [...session.peers.values()].map(
    (p) => `${p.connection.transport}/${p.connection.encryption}`,
  );
  assert.ok(kinds.includes('tcp/plain'), `connections: ${kinds.join(', ')}`);
  assert.ok(within(rate, 2_000_000), describeRate(rate, 2_000_000));
});

test('an upload limit of 2 MB/s on a seeder holds within ±10 % over uTP', { timeout: 60_000 }, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-up-');
  const { meta, seeder } = await seedRandom(t, root, 'up.bin', 32 * MiB, '127.0.0.2', {
    uploadLimit: 2_000_000,
  });
  const leecher = await startLeecher(t, '127.0.0.3');
  const session = await leech(leecher, meta, join(root, 'leech'), [seeder.address]);
  const bytes = (): number => seeder.session.stats().uploadedBytes;
  await started(bytes);
  const rate = await measureRate(bytes, WARM_UP_MS, WINDOW_MS);
  t.diagnostic(describeRate(rate, 2_000_000));
  assert.ok(within(rate, 2_000_000), describeRate(rate, 2_000_000));
  // The leecher saw it over uTP (the transport the limiter must also hold on).
  const transports = [...session.peers.values()].map((peer) => peer.connection.transport);
  assert.ok(transports.includes('utp'), `transports: ${transports.join(', ')}`);
});

test('a per-torrent limit below the client limit holds, over RC4 on TCP', {
  timeout: 60_000,
}, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-torrent-');
  const { meta, seeder } = await seedRandom(t, root, 'torrent.bin', 24 * MiB, '127.0.0.2', {
    encryption: 'require',
  });
  const leecher = await startLeecher(t, '127.0.0.3', {
    downloadLimit: 4_000_000,
    encryption: 'require',
    utp: false,
  });
  const session = await leech(leecher, meta, join(root, 'leech'), [seeder.address], {
    downloadLimit: 1_000_000,
  });
  const bytes = (): number => session.stats().downloadedBytes;
  await started(bytes);
  const rate = await measureRate(bytes, WARM_UP_MS, WINDOW_MS);
  t.diagnostic(describeRate(rate, 1_000_000));
  assert.ok(within(rate, 1_000_000), describeRate(rate, 1_000_000));
  const kinds = [...session.peers.values()].map(
    (p) => `${p.connection.transport}/${p.connection.encryption}`,
  );
  assert.ok(kinds.includes('tcp/rc4'), `connections: ${kinds.join(', ')}`);
});
