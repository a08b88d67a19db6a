/**
 * Torrents made by real tools (mktorrent, transmission-create) parse to the same
 * info-hash and file list that transmission-show reports, and their piece hashes
 * verify against the content on disk through our piece map.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseTorrent, pieceToFileRanges, type TorrentMetadata } from '../../src/metainfo/index.js';
import { isCI } from '../helpers/tools.js';

const run = promisify(execFile);
const TOOLS = ['mktorrent', 'transmission-create', 'transmission-show'] as const;
const TRACKER = 'http://127.0.0.1:6969/announce';

function missingTools(): string[] {
  return TOOLS.filter((tool) => {
    const probe = spawnSync(tool, ['-h'], { stdio: 'ignore', timeout: 10_000 });
    return (probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  });
}

const missing = missingTools();
const skipReason = missing.length > 0 && !isCI() ? `skipped: ${missing.join(', ')} not installed` : false;

/** Relative path (with "/") → size, for the files we create. */
const SINGLE_SIZE = 1_363_151; // ~1.3 MiB, odd
const MULTI_FILES: Record<string, number> = {
  'a.txt': 100_001,
  'empty.txt': 0,
  'sub/b.bin': 70_003,
  'sub/deeper/c.dat': 5,
  'sub/deeper/also-empty': 0,
  'sub/z': 33_333,
};

interface ShowReport {
  name: string;
  hash: string;
  pieceCount: number;
  files: string[];
}

/** Reads transmission-show 3.00 output: "  Hash: <hex>" under GENERAL, file lines under FILES. */
async function transmissionShow(torrentPath: string): Promise<ShowReport> {
  const { stdout } = await run('transmission-show', [torrentPath], { timeout: 30_000 });
  const field = (label: string) => {
    const match = new RegExp(`^\\s*${label}:\\s*(.+)$`, 'm').exec(stdout);
    assert.ok(match, `transmission-show printed no "${label}:"\n${stdout}`);
    return match[1]!.trim();
  };
  const filesSection = stdout.split(/^FILES\s*$/m)[1] ?? '';
  const files = filesSection
    .split('\n')
    .map((line) => /^\s+(.+) \([^()]*\)\s*$/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
  return {
    name: field('Name'),
    hash: field('Hash').toLowerCase(),
    pieceCount: Number(field('Piece Count')),
    files,
  };
}

/** Verifies every piece hash by reading the files through the piece map. */
async function verifyPieces(meta: TorrentMetadata, downloadRoot: string): Promise<void> {
  const handles = await Promise.all(meta.files.map((file) => open(join(downloadRoot, ...file.path), 'r')));
  try {
    for (let index = 0; index < meta.pieceCount; index++) {
      const hash = createHash('sha1');
      for (const range of pieceToFileRanges(meta, index)) {
        const chunk = Buffer.alloc(range.length);
        const { bytesRead } = await handles[range.fileIndex]!.read(chunk, 0, range.length, range.fileOffset);
        assert.equal(bytesRead, range.length);
        hash.update(chunk);
      }
      const expected = meta.pieceHashes.subarray(index * 20, index * 20 + 20);
      assert.deepEqual(hash.digest(), expected, `piece ${index} hash`);
    }
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
}

describe('torrents made by real tools', { skip: skipReason }, () => {
  let work = '';

  before(async () => {
    assert.deepEqual(missing, [], `CI requires ${missing.join(', ')}`);
    work = await mkdtemp(join(tmpdir(), 'lodestone-real-torrents-'));
    await writeFile(join(work, 'single.bin'), randomBytes(SINGLE_SIZE));
    for (const [path, size] of Object.entries(MULTI_FILES)) {
      await mkdir(dirname(join(work, 'multi', path)), { recursive: true });
      await writeFile(join(work, 'multi', path), randomBytes(size));
    }
  });

  after(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  const creators: Record<string, (target: string, out: string) => Promise<unknown>> = {
    mktorrent: (target, out) =>
      run('mktorrent', ['-l', '16', '-a', TRACKER, '-o', out, target], { timeout: 60_000 }),
    'transmission-create': (target, out) =>
      run('transmission-create', ['-o', out, '-t', TRACKER, '-s', '64', target], { timeout: 60_000 }),
  };

  for (const [tool, create] of Object.entries(creators)) {
    test(`${tool}: single file of odd size`, async () => {
      const out = join(work, `${tool}-single.torrent`);
      await create(join(work, 'single.bin'), out);
      const meta = parseTorrent(await readFile(out));
      const shown = await transmissionShow(out);
      assert.equal(meta.infoHashHex, shown.hash);
      assert.equal(meta.name, shown.name);
      assert.equal(meta.pieceCount, shown.pieceCount);
      assert.equal(meta.multiFile, false);
      assert.equal(meta.pieceLength, 64 * 1024);
      assert.equal(meta.totalLength, SINGLE_SIZE);
      assert.equal(meta.pieceCount, Math.ceil(SINGLE_SIZE / (64 * 1024)));
      assert.deepEqual(meta.files, [
        { path: ['single.bin'], length: SINGLE_SIZE, offset: 0, padding: false },
      ]);
      assert.deepEqual(meta.announceTiers, [[TRACKER]]);
      await verifyPieces(meta, work);
    });

    test(`${tool}: folder with nested directories and empty files`, async () => {
      const out = join(work, `${tool}-multi.torrent`);
      await create(join(work, 'multi'), out);
      const meta = parseTorrent(await readFile(out));
      const shown = await transmissionShow(out);
      assert.equal(meta.infoHashHex, shown.hash);
      assert.equal(meta.name, 'multi');
      assert.equal(meta.pieceCount, shown.pieceCount);
      assert.equal(meta.multiFile, true);

      const parsed = new Map(meta.files.map((file) => [file.path.slice(1).join('/'), file.length]));
      // Tools disagree on empty files (transmission-create 3.00 leaves them out): require every
      // non-empty file, and allow empty ones only with length 0.
      for (const [path, size] of Object.entries(MULTI_FILES)) {
        if (size > 0) assert.equal(parsed.get(path), size, path);
        else if (parsed.has(path)) assert.equal(parsed.get(path), 0, path);
      }
      for (const path of parsed.keys()) assert.ok(path in MULTI_FILES, `unexpected file ${path}`);
      const expectedTotal = Object.values(MULTI_FILES).reduce((sum, size) => sum + size, 0);
      assert.equal(meta.totalLength, expectedTotal);

      // transmission-show lists the non-empty files as "name/path"; ours must agree.
      const nonEmptyShown = shown.files.filter((path) => (MULTI_FILES[path.slice('multi/'.length)] ?? 0) > 0);
      const nonEmptyParsed = meta.files.filter((f) => f.length > 0).map((f) => f.path.join('/'));
      assert.deepEqual([...nonEmptyShown].sort(), [...nonEmptyParsed].sort());
      await verifyPieces(meta, work);
    });
  }

  test('mktorrent: private flag, tiers, web seeds, comment', async () => {
    const out = join(work, 'mktorrent-extras.torrent');
    await run(
      'mktorrent',
      [
        '-l',
        '15',
        '-p',
        '-c',
        'a comment',
        '-a',
        `${TRACKER},udp://127.0.0.1:6969`,
        '-a',
        'http://127.0.0.2:6969/announce',
        '-w',
        'http://127.0.0.1:8080/seed/',
        '-o',
        out,
        join(work, 'multi'),
      ],
      { timeout: 60_000 },
    );
    const meta = parseTorrent(await readFile(out));
    assert.equal(meta.infoHashHex, (await transmissionShow(out)).hash);
    assert.equal(meta.private, true);
    assert.equal(meta.pieceLength, 32 * 1024);
    assert.deepEqual(meta.announceTiers, [
      [TRACKER, 'udp://127.0.0.1:6969'],
      ['http://127.0.0.2:6969/announce'],
    ]);
    assert.deepEqual(meta.webSeeds, ['http://127.0.0.1:8080/seed/']);
    assert.equal(meta.comment, 'a comment');
    assert.match(meta.createdBy ?? '', /mktorrent/);
    assert.ok(meta.creationDate instanceof Date);
    await verifyPieces(meta, work);
  });
});
