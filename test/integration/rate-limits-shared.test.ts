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

const WARM_UP_MS = 1000;
const WINDOW_MS = 10_000;

test('two torrents under one 2 MB/s client limit share it: sum within ±10 %, neither starved', {
  timeout: 60_000,
}, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-share-');
  const a = await seedRandom(t, root, 'a.bin', 24 * MiB, '127.0.0.2');
  const b = await seedRandom(t, root, 'b.bin', 24 * MiB, '127.0.0.4');
  const leecher = await startLeecher(t, '127.0.0.3', { downloadLimit: 2_000_000 });
  const first = await leech(leecher, a.meta, join(root, 'leech'), [a.seeder.address]);
  const second = await leech(leecher, b.meta, join(root, 'leech'), [b.seeder.address]);
  const bytesA = (): number => first.stats().downloadedBytes;
  const bytesB = (): number => second.stats().downloadedBytes;
  await started(bytesA);
  await started(bytesB);
  const start = { a: bytesA(), b: bytesB() };
  const sum = await measureRate(() => bytesA() + bytesB(), WARM_UP_MS, WINDOW_MS);
  t.diagnostic(`sum ${describeRate(sum, 2_000_000)}`);
  assert.ok(within(sum, 2_000_000), `sum ${describeRate(sum, 2_000_000)}`);
  const movedA = bytesA() - start.a;
  const movedB = bytesB() - start.b;
  const share = movedA / (movedA + movedB);
  t.diagnostic(`torrent a: ${(share * 100).toFixed(1)} % of the bytes`);
  assert.ok(share > 0.3 && share < 0.7, `torrent a had ${(share * 100).toFixed(0)} % of the bytes`);
});

test('a live setLimits takes effect within two seconds: 4 MB/s, then 1 MB/s', {
  timeout: 60_000,
}, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-live-');
  const { meta, seeder } = await seedRandom(t, root, 'live.bin', 32 * MiB, '127.0.0.2');
  const leecher = await startLeecher(t, '127.0.0.3', { downloadLimit: 4_000_000 });
  const session = await leech(leecher, meta, join(root, 'leech'), [seeder.address]);
  const bytes = (): number => session.stats().downloadedBytes;
  await started(bytes);
  const before = await measureRate(bytes, WARM_UP_MS, 2000);
  t.diagnostic(`before: ${describeRate(before, 4_000_000)}`);
  assert.ok(within(before, 4_000_000, 0.15), `before: ${describeRate(before, 4_000_000)}`);
  leecher.setLimits({ download: 1_000_000 });
  // Within two seconds of the change the rate is the new limit (measured over the next 6 s).
  const after = await measureRate(bytes, 2000, 6000);
  t.diagnostic(`after: ${describeRate(after, 1_000_000)}`);
  assert.ok(within(after, 1_000_000), `after: ${describeRate(after, 1_000_000)}`);
  // A torrent exempt from the client's limits runs free again.
  session.setLimits({ honorsClientLimits: false });
  const free = await measureRate(bytes, 500, 1000);
  assert.ok(free > 3_000_000 || session.done, `exempt: ${describeRate(free, 1_000_000)}`);
});
