import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';

/** Builds a multi-file torrent in memory (the `create` command is another issue's). */
function makeTorrent(name: string, files: { path: string[]; data: Buffer }[], pieceLength: number): Buffer {
  const stream = Buffer.concat(files.map((f) => f.data));
  return encode({
    info: {
      name,
      'piece length': pieceLength,
      pieces: pieceHashesOf(stream, pieceLength),
      files: files.map((f) => ({ length: f.data.length, path: f.path })),
    },
  });
}

test('a Lodestone leecher downloads a multi-file torrent from a Lodestone seeder on loopback', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-l2l-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const files = [
    { path: ['a.bin'], data: randomBytes(700_001) },
    { path: ['empty.txt'], data: Buffer.alloc(0) },
    { path: ['sub', 'b.bin'], data: randomBytes(1_234_567) },
  ];
  const meta = parseTorrent(makeTorrent('swarm', files, 32 * 1024));
  const seedDir = join(root, 'seed');
  for (const file of files) {
    const target = join(seedDir, 'swarm', ...file.path);
    await mkdir(join(target, '..'), { recursive: true });
    await writeFile(target, file.data);
  }

  const seeder = new Client({ port: 0, bindAddress: '127.0.0.2', hashWorkers: 1 });
  const leecher = new Client({ port: 0, bindAddress: '127.0.0.3', hashWorkers: 1 });
  t.after(async () => {
    await leecher.close();
    await seeder.close();
  });
  const seederPort = await seeder.listen();
  await leecher.listen();
  const seeding = seeder.add(meta, { path: seedDir, seed: true, useTrackers: false });
  await seeding.start();
  assert.equal(seeding.have.count, meta.pieceCount, 'the seeder verified all its data');

  const leechDir = join(root, 'leech');
  const session = leecher.add(meta, {
    path: leechDir,
    useTrackers: false,
    peers: [{ host: '127.0.0.2', port: seederPort }],
  });
  const done = new Promise<void>((resolve, reject) => {
    session.once('done', resolve);
    session.once('error', reject);
  });
  await session.start();
  await done;

  for (const file of files) {
    const written = await readFile(join(leechDir, 'swarm', ...file.path));
    assert.ok(written.equals(file.data), `${file.path.join('/')} is byte-identical`);
  }
  assert.equal(session.stats().verifiedBytes, meta.totalLength);
  assert.ok(seeding.stats().uploadedBytes >= meta.totalLength, 'the seeder counted what it uploaded');
});

test('over IPv6 (::1), with --trace logging every wire message', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-l2l6-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const files = [{ path: ['six.bin'], data: randomBytes(300_000) }];
  const torrent = makeTorrent('v6', files, 16 * 1024);
  const meta = parseTorrent(torrent);
  await mkdir(join(root, 'seed', 'v6'), { recursive: true });
  await writeFile(join(root, 'seed', 'v6', 'six.bin'), files[0]!.data);
  await writeFile(join(root, 'v6.torrent'), torrent);
  const seeder = new Client({ port: 0, bindAddress: '::1', hashWorkers: 1 });
  t.after(() => seeder.close());
  const port = await seeder.listen();
  await seeder.add(meta, { path: join(root, 'seed'), seed: true, useTrackers: false }).start();

  const { runCli } = await import('../helpers/lodestone-cli.js');
  const run = runCli([
    'download',
    join(root, 'v6.torrent'),
    '-o',
    join(root, 'out'),
    '--peer',
    `[::1]:${port}`,
    '--bind',
    '::1',
    '--port',
    '0',
    '--trace',
    '--quiet',
  ]);
  t.after(() => run.stop());
  const result = await run.exited;
  assert.equal(result.code, 0, result.stderr.slice(-2000));
  assert.ok((await readFile(join(root, 'out', 'v6', 'six.bin'))).equals(files[0]!.data));
  const peer = `[::1]:${port}`;
  assert.ok(result.stderr.includes(`-> ${peer} request index=0 begin=0 length=16384`), 'requests are traced');
  assert.ok(result.stderr.includes(`<- ${peer} piece index=0 begin=0 length=16384`), 'pieces are traced');
  assert.ok(result.stderr.includes(`<- ${peer} unchoke`), 'flow messages are traced');
});
