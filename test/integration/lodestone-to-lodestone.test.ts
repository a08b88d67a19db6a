import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';

/** Builds a multi-file torrent in memory (the `create` command is another issue's). */
function makeTorrent(name: string, files: { path: string[]; data: Buffer }[], pieceLength: number): Buffer {
  const stream = Buffer.concat(files.map((f) => f.data));
  const hashes: Buffer[] = [];
  for (let offset = 0; offset < stream.length; offset += pieceLength) {
    hashes.push(
      createHash('sha1')
        .update(stream.subarray(offset, offset + pieceLength))
        .digest(),
    );
  }
  return encode({
    info: {
      name,
      'piece length': pieceLength,
      pieces: Buffer.concat(hashes),
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
