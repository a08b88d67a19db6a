import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
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

test('download --download-limit 2M: 2,000,000 B/s within ±10 % over 10 s, from its progress events', {
  timeout: 60_000,
}, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-cli-down-');
  const { meta, seeder } = await seedRandom(t, root, 'cli-down.bin', 32 * MiB, '127.0.0.2');
  const torrentPath = join(root, 'cli-down.torrent');
  await writeFile(torrentPath, Buffer.concat([Buffer.from('d4:info'), meta.infoBytes, Buffer.from('e')]));
  const run = runCli([
    'download',
    torrentPath,
    '-o',
    join(root, 'out'),
    '-p',
    '0',
    '--bind',
    '127.0.0.3',
    '--no-trackers',
    '--peer',
    `${seeder.address.host}:${seeder.address.port}`,
    '--download-limit',
    '2M',
    '--json',
  ]);
  t.after(() => run.stop());
  // What the leecher verified, between two of its progress events 10 s apart after a warm-up
  // second (piece-grained: 256 KiB in 20 MB). The seeder's count would include what waits in
  // socket buffers (megabytes on loopback), which is not what the limit limits.
  const progress = async (after: number): Promise<{ at: number; bytes: number; downloadRate: number }> => {
    const event = await run.waitFor(
      (e) => e.type === 'progress' && Date.parse(String(e.time)) >= after && Number(e.verifiedBytes) > 0,
      20_000,
    );
    return {
      at: Date.parse(String(event.time)),
      bytes: Number(event.verifiedBytes),
      downloadRate: Number(event.downloadRate),
    };
  };
  const first = await progress(0);
  const from = await progress(first.at + WARM_UP_MS);
  const to = await progress(from.at + WINDOW_MS);
  const rate = ((to.bytes - from.bytes) * 1000) / (to.at - from.at);
  t.diagnostic(`${describeRate(rate, 2_000_000)} over ${to.at - from.at} ms`);
  assert.ok(within(rate, 2_000_000), describeRate(rate, 2_000_000));
  assert.ok(seeder.session.stats().uploadedBytes < meta.totalLength, 'the seeder is still serving');
  // The progress events' rate (a 5 s average of payload) shows the limit too.
  const shown = to.downloadRate;
  assert.ok(within(shown, 2_000_000, 0.15), `progress downloadRate ${describeRate(shown, 2_000_000)}`);
});

test('seed --upload-limit 1.5MiB: 1,572,864 B/s within ±10 % over 10 s, measured at the leecher', {
  timeout: 60_000,
}, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-cli-up-');
  const data = randomBytes(24 * MiB);
  const torrent = encode({
    info: {
      name: 'cli-up.bin',
      'piece length': 256 * 1024,
      pieces: pieceHashesOf(data, 256 * 1024),
      length: data.length,
    },
  });
  const meta = parseTorrent(torrent);
  await mkdir(join(root, 'seed'), { recursive: true });
  await writeFile(join(root, 'seed', 'cli-up.bin'), data);
  await writeFile(join(root, 'cli-up.torrent'), torrent);
  const run = runCli([
    'seed',
    join(root, 'cli-up.torrent'),
    join(root, 'seed'),
    '-p',
    '0',
    '--bind',
    '127.0.0.2',
    '--no-trackers',
    '--upload-limit',
    '1.5MiB',
    '--json',
  ]);
  t.after(() => run.stop());
  const start = await run.waitFor((event) => event.type === 'start', 20_000);
  const port = Number(start.port);
  // Dialled before its check of the data is over, the seeder would refuse us and we would retry later.
  await run.waitFor((event) => event.type === 'ready', 20_000);
  const leecher = await startLeecher(t, '127.0.0.3');
  const session = await leech(leecher, meta, join(root, 'leech'), [{ host: '127.0.0.2', port }]);
  const bytes = (): number => session.stats().downloadedBytes;
  await started(bytes, 20_000);
  const rate = await measureRate(bytes, WARM_UP_MS, WINDOW_MS);
  t.diagnostic(describeRate(rate, 1_572_864));
  assert.ok(within(rate, 1_572_864), describeRate(rate, 1_572_864));
});

test('a bad --download-limit is a usage error (exit 2) naming the flag', { timeout: 30_000 }, async (t) => {
  const root = await tempRoot(t, 'lodestone-rate-cli-bad-');
  const data = randomBytes(1024);
  const torrent = encode({
    info: { name: 'x.bin', 'piece length': 16384, pieces: pieceHashesOf(data, 16384), length: 1024 },
  });
  await writeFile(join(root, 'x.torrent'), torrent);
  const run = runCli([
    'download',
    join(root, 'x.torrent'),
    '-o',
    join(root, 'out'),
    '-p',
    '0',
    '--bind',
    '127.0.0.3',
    '--peer',
    '127.0.0.2:1',
    '--download-limit',
    'fast',
  ]);
  t.after(() => run.stop());
  const { code, stderr } = await run.exited;
  assert.equal(code, 2, stderr);
  assert.match(stderr, /invalid --download-limit "fast"/);
});
