/**
 * Hostile world (issue 15): symlinks planted in the download folder by
 * someone else. `lodestone download` from an in-process Lodestone seeder into
 * a folder where the torrent's file, or a folder on its way, is a symlink to
 * a place outside: the download is refused with one clear line naming the
 * path, exit 3, and nothing outside the folder is written, created or read.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { hasStackTrace, stderrLines } from '../helpers/faults.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

const EXIT_BAD_INPUT = 3; // src/cli/exit-codes.ts ExitCode.badInput (LODESTONE_ERR_UNSAFE_PATH)
const PIECE = 16 * 1024;
const VICTIM = Buffer.from('an outside file nobody asked us to touch\n');
const data = randomBytes(3 * PIECE + 100);

let root = '';
let seeder: { client: Client; peer: string } | undefined;
const torrents: Record<'single' | 'multi', { file: string; meta: TorrentMetadata }> = {} as never;

async function writeTorrent(name: string, info: Record<string, unknown>) {
  const bytes = encode({ info } as never);
  const file = join(root, `${name}.torrent`);
  await writeFile(file, bytes);
  return { file, meta: parseTorrent(bytes) };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-planted-'));
  const pieces = pieceHashesOf(data, PIECE);
  torrents.single = await writeTorrent('single', {
    name: 'name.bin',
    'piece length': PIECE,
    pieces,
    length: data.length,
  });
  torrents.multi = await writeTorrent('multi', {
    name: 'set',
    'piece length': PIECE,
    pieces,
    files: [
      { length: 100, path: ['a.txt'] },
      { length: data.length - 100, path: ['sub', 'deep', 'b.bin'] },
    ],
  });
  // One seeder serves both torrents from real files.
  const seedDir = join(root, 'seed');
  await mkdir(join(seedDir, 'set', 'sub', 'deep'), { recursive: true });
  await writeFile(join(seedDir, 'name.bin'), data);
  await writeFile(join(seedDir, 'set', 'a.txt'), data.subarray(0, 100));
  await writeFile(join(seedDir, 'set', 'sub', 'deep', 'b.bin'), data.subarray(100));
  const host = nextLoopbackAddress();
  const client = new Client({ hashWorkers: 1, port: 0, bindAddress: host });
  seeder = { client, peer: '' };
  const port = await client.listen();
  seeder.peer = `${host}:${port}`;
  for (const { meta } of Object.values(torrents)) {
    await client.add(meta, { path: seedDir, seed: true, useTrackers: false }).start();
  }
});

after(async () => {
  await seeder?.client.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh `out` and `outside` folder for one case. */
async function folders(name: string) {
  const out = join(root, name, 'out');
  const outside = join(root, name, 'outside');
  await mkdir(out, { recursive: true });
  await mkdir(outside, { recursive: true });
  return { out, outside };
}

async function download(t: TestContext, torrent: string, out: string) {
  const run = runCli([
    'download',
    torrent,
    '-o',
    out,
    '--port',
    '0',
    '--bind',
    nextLoopbackAddress(),
    '--no-trackers',
    '--peer',
    seeder!.peer,
  ]);
  t.after(() => run.stop());
  return run.exited;
}

function assertRefused(result: { code: number | null; stderr: string }, path: string): void {
  assert.equal(result.code, EXIT_BAD_INPUT, `exit 3; stderr: ${result.stderr}`);
  const lines = stderrLines(result.stderr);
  assert.equal(lines.length, 1, `exactly one line on stderr, got: ${result.stderr}`);
  assert.match(lines[0]!, /^lodestone: error: refusing /);
  assert.ok(lines[0]!.includes(path), `names ${path}: ${lines[0]}`);
  assert.match(lines[0]!, /symlink|outside the download folder/);
  assert.ok(!hasStackTrace(result.stderr), `no stack trace: ${result.stderr}`);
}

describe('hostile: planted symlinks in the download folder', { timeout: 60_000 }, () => {
  test('out/name.bin -> an outside file: refused, the outside file untouched', async (t) => {
    const { out, outside } = await folders('file-link');
    const victim = join(outside, 'victim.bin');
    await writeFile(victim, VICTIM);
    await symlink(victim, join(out, 'name.bin'));
    assertRefused(await download(t, torrents.single.file, out), join(out, 'name.bin'));
    assert.deepEqual(await readFile(victim), VICTIM);
  });

  test('out/name.bin -> a missing outside file: refused, nothing created outside', async (t) => {
    const { out, outside } = await folders('dangling-link');
    await symlink(join(outside, 'new.bin'), join(out, 'name.bin'));
    assertRefused(await download(t, torrents.single.file, out), join(out, 'name.bin'));
    assert.deepEqual(await readdir(outside), []);
  });

  test('out/set -> outside (the torrent folder): refused, nothing made outside', async (t) => {
    const { out, outside } = await folders('folder-link');
    await writeFile(join(outside, 'a.txt'), VICTIM);
    await symlink(outside, join(out, 'set'));
    assertRefused(await download(t, torrents.multi.file, out), join(out, 'set'));
    assert.deepEqual(await readdir(outside), ['a.txt']);
    assert.deepEqual(await readFile(join(outside, 'a.txt')), VICTIM);
  });

  test('out/set/sub -> outside (a folder on the way): refused, no folder made outside', async (t) => {
    const { out, outside } = await folders('sub-link');
    await mkdir(join(out, 'set'));
    await symlink(outside, join(out, 'set', 'sub'));
    assertRefused(await download(t, torrents.multi.file, out), join(out, 'set', 'sub'));
    assert.deepEqual(await readdir(outside), [], 'outside/deep was not created');
  });

  test('lodestone seed through a link the user named (links/name.bin -> seed/name.bin) seeds from where it leads', async (t) => {
    const links = join(root, 'user-links');
    await mkdir(links, { recursive: true });
    await symlink(join(root, 'seed', 'name.bin'), join(links, 'name.bin'));
    const run = runCli([
      'seed',
      torrents.single.file,
      join(links, 'name.bin'),
      '--json',
      '--port',
      '0',
      '--bind',
      nextLoopbackAddress(),
      '--no-trackers',
    ]);
    t.after(() => run.stop());
    const seeding = await run.waitFor((event) => event.type === 'seeding' || event.type === 'error', 20_000);
    assert.equal(seeding.type, 'seeding', `seeds: ${JSON.stringify(seeding)}`);
  });
});
