/**
 * Hostile and odd file names, end to end. Lodestone rewrites unsafe names
 * instead of refusing the torrent (src/metainfo/file-names.ts), so each case
 * is really downloaded, and the guarantee checked is the one that matters:
 * every byte lands inside the output folder, under the rewritten name, and
 * nothing appears anywhere else. The parent of the output folder is
 * snapshotted before and after, and every escape target lies inside it.
 *
 * 1. The path-traversal corpus (".." components, absolute paths, NUL, a
 *    hostile name.utf-8…), as a .torrent and as magnet metadata, each
 *    downloaded by `lodestone download` from an in-process Lodestone seeder.
 * 2. One torrent holding what real torrents hold (aux.c from the Linux sources,
 *    a trailing dot, a ".." component, a 300-byte name, a duplicate, BEP 47
 *    symlinks inside and outside, BitComet and path-less padding, attr x),
 *    seeded by libtorrent 2.0.8 (python3-libtorrent, what qBittorrent uses):
 *    a torrent libtorrent accepts downloads in Lodestone too.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { type Encodable, encode } from '../../src/bencode/index.js';
import { parseInfoDictionary, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { FileStorage } from '../../src/storage/file-storage.js';
import { addedPaths, hasStackTrace, snapshotTree } from '../helpers/faults.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { makeClientDir, pollUntil, spawnManaged } from '../helpers/real-clients/process.js';

const PIECE = 16 * 1024;

let root = '';
/** The folder whose contents must not change outside the output folders. */
let parent = '';
let caseNumber = 0;
const data = randomBytes(3 * PIECE + 100);

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-paths-'));
  parent = join(root, 'parent');
  await mkdir(join(parent, 'one', 'two'), { recursive: true });
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

function pieceHashes(bytes: Buffer): Buffer {
  const hashes: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += PIECE) {
    hashes.push(
      createHash('sha1')
        .update(bytes.subarray(offset, offset + PIECE))
        .digest(),
    );
  }
  return Buffer.concat(hashes);
}

/** A single-file info dictionary named `name` (plus extra keys), with real hashes of `data`. */
function singleFile(name: Encodable, extra: Record<string, Encodable> = {}): Record<string, Encodable> {
  return { name, 'piece length': PIECE, pieces: pieceHashes(data), length: data.length, ...extra };
}

/** A multi-file info dictionary: a harmless file, then one at `path`, sharing `data`. */
function multiFile(path: Encodable, name: Encodable = 'set'): Record<string, Encodable> {
  return {
    name,
    'piece length': PIECE,
    pieces: pieceHashes(data),
    files: [
      { length: 100, path: ['ok.txt'] },
      { length: data.length - 100, path },
    ],
  };
}

interface HostileCase {
  title: string;
  /** The info dictionary; `target` is a path inside the snapshotted folder (for absolute paths). */
  info: (target: string) => Record<string, Encodable>;
  /** Where the hostile file's bytes must land, relative to the output folder. */
  landsAt: (target: string) => string;
  /** False when the name is fine on this platform and used as it is. @default true */
  renamed?: boolean;
}

const flat = (path: string) => path.replaceAll('/', '_');

const cases: HostileCase[] = [
  { title: 'a ".." component', info: () => multiFile(['..', 'evil']), landsAt: () => 'set/evil' },
  { title: 'name "../evil"', info: () => singleFile('../evil'), landsAt: () => '.._evil' },
  {
    title: 'absolute path as one component',
    info: (target) => multiFile([join(target, 'abs')]),
    landsAt: (target) => `set/${flat(join(target, 'abs'))}`,
  },
  {
    title: 'absolute path split (empty first component)',
    info: () => multiFile(['', 'tmp', 'x']),
    landsAt: () => 'set/tmp/x',
  },
  {
    title: '"a/../../b" as components',
    info: () => multiFile(['a', '..', '..', '..', 'b']),
    landsAt: () => 'set/a/b',
  },
  {
    title: 'backslashes "a\\..\\..\\b"',
    info: () => multiFile(['a\\..\\..\\b']),
    landsAt: () => 'set/a_.._.._b',
  },
  {
    title: 'absolute name',
    info: (target) => singleFile(join(target, 'abs-name')),
    landsAt: (target) => flat(join(target, 'abs-name')),
  },
  { title: 'NUL inside a name', info: () => singleFile('evil\0.txt'), landsAt: () => 'evil_.txt' },
  {
    title: 'NUL inside a path component',
    info: () => multiFile(['sub', 'x\0../../y']),
    landsAt: () => 'set/sub/x_.._.._y',
  },
  {
    title: 'torrent name ".." (multi-file)',
    info: () => multiFile(['x.bin'], '..'),
    landsAt: () => '_/x.bin',
  },
  {
    title: 'name.utf-8 "../evil" behind a harmless name',
    info: () => singleFile('ok', { 'name.utf-8': '../evil' }),
    landsAt: () => '.._evil',
  },
  // "C:" is a drive only on Windows (where it becomes "C_"); elsewhere it is an ordinary name.
  {
    title: 'drive letter "C:"',
    info: () => multiFile(['C:', 'evil']),
    landsAt: () => (process.platform === 'win32' ? 'set/C_/evil' : 'set/C:/evil'),
    renamed: process.platform === 'win32',
  },
];

/** Seeds `meta` (whose bytes are `content`) from an in-process Lodestone client, laid out as Lodestone lays it out. */
async function startSeeder(t: TestContext, meta: TorrentMetadata, content: Buffer): Promise<string> {
  const dir = await mkdtemp(join(root, 'seed-'));
  const storage = new FileStorage(meta, dir);
  for (let i = 0; i < meta.pieceCount; i++) {
    await storage.writePiece(i, [content.subarray(i * PIECE, (i + 1) * PIECE)]);
  }
  await storage.close();
  const host = nextLoopbackAddress();
  const client = new Client({ hashWorkers: 1, port: 0, bindAddress: host });
  t.after(() => client.close());
  const port = await client.listen();
  await client.add(meta, { path: dir, seed: true, useTrackers: false }).start();
  return `${host}:${port}`;
}

async function download(t: TestContext, source: string, outDir: string, peer: string | undefined) {
  const run = runCli([
    'download',
    source,
    '-o',
    outDir,
    '--json',
    '--port',
    '0',
    '--bind',
    nextLoopbackAddress(),
    ...(peer ? ['--peer', peer] : []),
  ]);
  t.after(() => run.stop());
  const result = await run.exited;
  assert.equal(result.code, 0, `exit code 0; stderr: ${result.stderr}`);
  assert.ok(!hasStackTrace(result.stderr), 'no stack trace');
  return { events: run.events, stderr: result.stderr };
}

/** Downloads `source` into a fresh folder below `parent`; checks where every byte went. */
async function assertLandsInside(
  t: TestContext,
  hostile: HostileCase,
  source: string,
  peer: string | undefined,
): Promise<void> {
  const outRelative = `one/two/out${++caseNumber}`;
  const outDir = join(parent, outRelative);
  await mkdir(outDir);
  const before = await snapshotTree(parent);
  const { events } = await download(t, source, outDir, peer);
  const added = addedPaths(before, await snapshotTree(parent));
  const outside = added.filter((path) => !path.startsWith(`${outRelative}/`));
  assert.deepEqual(outside, [], 'nothing created outside the output folder');
  const landsAt = hostile.landsAt(parent);
  const hostileBytes = await readFile(join(outDir, landsAt));
  assert.deepEqual(hostileBytes, data.subarray(data.length - hostileBytes.length), `bytes at ${landsAt}`);
  const renamed = events.find((event) => event.type === 'renamed-files') as
    | (CliEvent & { files: { path: string; originalPath: string }[] })
    | undefined;
  if (hostile.renamed === false) {
    assert.equal(renamed, undefined, 'no renamed-files event for a name used as it is');
    return;
  }
  assert.ok(renamed, 'a renamed-files event');
  assert.ok(
    renamed.files.some((file) => file.path === landsAt),
    `renamed-files lists ${landsAt}: ${JSON.stringify(renamed.files)}`,
  );
}

describe('hostile names end to end: rewritten, downloaded, never outside the folder', {
  timeout: 240_000,
}, () => {
  for (const hostile of cases) {
    test(`.torrent: ${hostile.title}`, async (t) => {
      const info = encode(hostile.info(parent));
      const meta = parseInfoDictionary(info);
      const peer = await startSeeder(t, meta, data);
      const torrentPath = join(root, `hostile-${caseNumber}.torrent`);
      await writeFile(torrentPath, encode({ info: hostile.info(parent) }));
      await assertLandsInside(t, hostile, torrentPath, peer);
    });
  }

  for (const hostile of cases) {
    test(`magnet metadata: ${hostile.title}`, async (t) => {
      const info = encode(hostile.info(parent));
      const meta = parseInfoDictionary(info);
      const peer = await startSeeder(t, meta, data);
      const magnet = `magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=${peer}`;
      await assertLandsInside(t, hostile, magnet, undefined);
    });
  }
});

// --- 2. A torrent with real-world odd names, seeded by libtorrent -------------------------------

const LONG_NAME = `${'x'.repeat(300)}.dat`;
const BITCOMET_PAD = '_____padding_file_0_如果您看到此文件，请您升级到BitComet(比特彗星)0.85或以上版本____';

interface Entry {
  path?: string[];
  length?: number;
  attr?: string;
  'symlink path'?: string[];
}

/** The files, with the padding lengths that put data.bin and the tail on piece boundaries. */
function realWorldEntries(): Entry[] {
  const head: Entry[] = [
    { path: ['drivers', 'aux.c'], length: 1000 },
    { path: ['Vol. 1.'], length: 2000 },
    { path: ['..', 'up.txt'], length: 1500 },
    { path: [LONG_NAME], length: 3000 },
    { path: ['dup.txt'], length: 500 },
    { path: ['dup.txt'], length: 600 },
  ];
  const headLength = head.reduce((sum, entry) => sum + entry.length!, 0);
  return [
    ...head,
    { path: [BITCOMET_PAD], length: PIECE - headLength },
    { path: ['data.bin'], length: PIECE + 300 },
    { length: PIECE - 300, attr: 'p' },
    { attr: 'l', 'symlink path': ['data.bin'], path: ['links', 'in'] },
    { attr: 'l', 'symlink path': ['..', '..', 'outside.txt'], path: ['links', 'out'] },
    { path: ['bin', 'tool'], length: 777, attr: 'x' },
  ];
}

/** Real bytes for data entries, zeros for padding, nothing for symlinks. */
function realWorldContent(entries: Entry[]): Buffer {
  return Buffer.concat(
    entries.map((entry) => {
      if (entry.length === undefined) return Buffer.alloc(0);
      const padding = entry.attr === 'p' || entry.path?.[0]?.startsWith('_____padding_file_');
      return padding ? Buffer.alloc(entry.length) : randomBytes(entry.length);
    }),
  );
}

/**
 * libtorrent as a seeder: writes each data file where libtorrent itself puts it
 * (its own sanitised names), checks, seeds, and writes "ready PORT" once seeding.
 */
const LIBTORRENT_SEEDER = `
import os, sys, time
import libtorrent as lt
torrent, content, save, host, ready = sys.argv[1:6]
ti = lt.torrent_info(torrent)
fs = ti.files()
blob = open(content, 'rb').read()
for i in range(fs.num_files()):
    if fs.file_flags(i) & (lt.file_storage.flag_pad_file | lt.file_storage.flag_symlink):
        continue
    path = os.path.join(save, fs.file_path(i))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    offset = fs.file_offset(i)
    with open(path, 'wb') as out:
        out.write(blob[offset:offset + fs.file_size(i)])
session = lt.session({
    'listen_interfaces': host + ':0', 'outgoing_interfaces': host,
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True,
})
handle = session.add_torrent({'ti': ti, 'save_path': save})
while not handle.status().is_seeding:
    if handle.status().errc.value() != 0:
        print('error', handle.status().errc.message(), flush=True)
        sys.exit(1)
    time.sleep(0.1)
with open(ready + '.tmp', 'w') as f:
    f.write('ready %d' % session.listen_port())
os.rename(ready + '.tmp', ready)
while True:
    time.sleep(1)
`;

import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

describe('a torrent libtorrent accepts downloads in Lodestone', { timeout: 120_000 }, () => {
  test('aux.c, trailing dot, "..", 300-byte name, duplicate, symlinks, BitComet padding, seeded by libtorrent', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const entries = realWorldEntries();
    const content = realWorldContent(entries);
    const info = { name: 'odd', 'piece length': PIECE, pieces: pieceHashes(content), files: entries };
    const torrentPath = join(root, 'odd.torrent');
    await writeFile(torrentPath, encode({ info: info as unknown as Encodable }));
    const contentPath = join(root, 'odd.content');
    await writeFile(contentPath, content);

    const dir = await makeClientDir('libtorrent-seeder');
    await writeFile(join(dir, 'seeder.py'), LIBTORRENT_SEEDER);
    const host = nextLoopbackAddress();
    const readyPath = join(dir, 'ready');
    const seeder = await spawnManaged({
      name: 'libtorrent',
      command: LIBTORRENT_PYTHON,
      args: [join(dir, 'seeder.py'), torrentPath, contentPath, join(dir, 'data'), host, readyPath],
      dir,
    });
    t.after(() => seeder.stop());
    let ready = '';
    await pollUntil(seeder, 'libtorrent seeding', 30_000, async () => {
      ready = await readFile(readyPath, 'utf8').catch(() => '');
      return { done: ready !== '', status: ready || 'checking' };
    });
    const port = Number(/^ready (\d+)$/.exec(ready)![1]);

    const outRelative = 'one/two/odd-out';
    const outDir = join(parent, outRelative);
    await mkdir(outDir);
    const before = await snapshotTree(parent);
    const { events, stderr } = await download(t, torrentPath, outDir, `${host}:${port}`);
    const added = addedPaths(before, await snapshotTree(parent));
    const cut = `${'x'.repeat(236)}.dat`;
    assert.deepEqual(
      added.map((path) => path.slice(outRelative.length + 1)),
      [
        'odd/',
        'odd/Vol. 1.',
        'odd/bin/',
        'odd/bin/tool',
        'odd/data.bin',
        'odd/drivers/',
        'odd/drivers/aux.c',
        'odd/dup.1.txt',
        'odd/dup.txt',
        'odd/links/',
        'odd/links/in',
        'odd/up.txt',
        `odd/${cut}`,
      ].sort(),
      'exactly these paths, all inside the output folder; no padding, no outside symlink',
    );

    // Every data file holds its bytes.
    const expected: [string, number][] = [
      ['drivers/aux.c', 0],
      ['Vol. 1.', 1000],
      ['up.txt', 3000],
      [cut, 4500],
      ['dup.txt', 7500],
      ['dup.1.txt', 8000],
      ['data.bin', PIECE],
      ['bin/tool', 3 * PIECE],
    ];
    for (const [path, offset] of expected) {
      const bytes = await readFile(join(outDir, 'odd', path));
      assert.deepEqual(bytes, content.subarray(offset, offset + bytes.length), path);
    }
    assert.equal((await stat(join(outDir, 'odd', 'data.bin'))).size, PIECE + 300);
    assert.equal((await stat(join(outDir, 'odd', 'bin', 'tool'))).mode & 0o100, 0o100, 'attr x');

    // The inside symlink is a link to data.bin; the outside one was not made.
    const link = join(outDir, 'odd', 'links', 'in');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), join('..', 'data.bin'));
    assert.deepEqual(await readFile(link), content.subarray(PIECE, 2 * PIECE + 300));

    // The user is told.
    const renamed = events.find((event) => event.type === 'renamed-files') as CliEvent & {
      files: { path: string; originalPath: string }[];
      skippedSymlinks: { path: string; target: string }[];
    };
    assert.ok(renamed, `a renamed-files event: ${JSON.stringify(events.map((e) => e.type))}`);
    assert.deepEqual(renamed.files, [
      { path: 'odd/up.txt', originalPath: 'odd/../up.txt' },
      { path: `odd/${cut}`, originalPath: `odd/${LONG_NAME}` },
      { path: 'odd/dup.1.txt', originalPath: 'odd/dup.txt' },
    ]);
    assert.deepEqual(renamed.skippedSymlinks, [{ path: 'odd/links/out', target: '../../outside.txt' }]);
    assert.equal(stderr.trim(), '', 'with --json, nothing on stderr');
  });
});

describe('lodestone info shows what was renamed', { timeout: 60_000 }, () => {
  test('text and --json list renamed files and symlinks (original -> used), control characters escaped', async (t) => {
    const entries = [...realWorldEntries(), { path: ['esc\x1b[2Jape'], length: 5 }];
    const content = realWorldContent(entries);
    const info = { name: 'odd', 'piece length': PIECE, pieces: pieceHashes(content), files: entries };
    const torrentPath = join(root, 'odd-info.torrent');
    await writeFile(torrentPath, encode({ info: info as unknown as Encodable }));

    const text = runCli(['info', torrentPath]);
    t.after(() => text.stop());
    const shown = await text.exited;
    assert.equal(shown.code, 0, shown.stderr);
    assert.doesNotMatch(shown.stdout, /\x1b/, 'no raw escape reaches the terminal');
    const cut = `${'x'.repeat(236)}.dat`;
    for (const line of [
      'Renamed (4) to be safe on disk:',
      '  odd/../up.txt -> odd/up.txt',
      `  odd/${LONG_NAME} -> odd/${cut}`,
      '  odd/dup.txt -> odd/dup.1.txt',
      '  odd/esc\\x1b[2Jape -> odd/esc_[2Jape',
      'Symlinks (2):',
      '  odd/links/in -> odd/data.bin',
      "  odd/links/out -> ../../outside.txt (not created: the target leaves the torrent's folder)",
    ]) {
      assert.ok(
        shown.stdout.split('\n').includes(line),
        `info shows ${JSON.stringify(line)}:\n${shown.stdout}`,
      );
    }
    assert.doesNotMatch(shown.stdout, /padding_file|\.pad/, 'padding files are not listed');

    const json = runCli(['info', torrentPath, '--json']);
    t.after(() => json.stop());
    const described = JSON.parse((await json.exited).stdout) as {
      renamedFiles: { path: string; originalPath: string }[];
      symlinks: { path: string; target: string | null; originalTarget: string }[];
      files: { path: string }[];
    };
    assert.equal(described.renamedFiles.length, 4);
    assert.deepEqual(described.renamedFiles[3], {
      path: 'odd/esc_[2Jape',
      originalPath: 'odd/esc\x1b[2Jape',
    });
    assert.deepEqual(described.symlinks, [
      { path: 'odd/links/in', target: 'odd/data.bin', originalTarget: 'data.bin' },
      { path: 'odd/links/out', target: null, originalTarget: '../../outside.txt' },
    ]);
    assert.equal(described.files.length, 9, 'data files only: no padding, no symlinks');
  });

  test('download without --json prints one warning line per renamed file', async (t) => {
    const info = multiFile(['..', 'evil']);
    const peer = await startSeeder(t, parseInfoDictionary(encode(info)), data);
    const torrentPath = join(root, 'warn.torrent');
    await writeFile(torrentPath, encode({ info }));
    const outDir = join(root, 'warn-out');
    const run = runCli([
      'download',
      torrentPath,
      '-o',
      outDir,
      '--port',
      '0',
      '--bind',
      nextLoopbackAddress(),
      '--peer',
      peer,
    ]);
    t.after(() => run.stop());
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stderr.split('\n').filter((line) => line !== ''),
      ['lodestone: warning: renamed "set/../evil" to "set/evil"'],
    );
    assert.deepEqual(await readFile(join(outDir, 'set', 'evil')), data.subarray(100));
  });
});
