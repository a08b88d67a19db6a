import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bytesToText, decode, isDict } from '../../../src/bencode/index.js';
import { parsePieceLength } from '../../../src/cli/commands/create.js';
import {
  assertValidPieceLength,
  autoPieceLength,
  type CreateTorrentOptions,
  createTorrent,
} from '../../../src/create/index.js';
import { isLodestoneError } from '../../../src/errors.js';
import { assertSafeComponent, parseTorrent, type TorrentMetadata } from '../../../src/metainfo/index.js';
import { HashPool } from '../../../src/storage/index.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const TRACKER = 'http://127.0.0.1:6969/announce';
/** Read here, not through src/version.ts: the default `created by` must follow package.json. */
const packageVersion = (
  JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

let workdir: string;
let pool: HashPool;

before(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'lodestone-create-'));
  pool = new HashPool({ workers: 2 });
});

after(async () => {
  await pool.destroy();
  await rm(workdir, { recursive: true, force: true });
});

let folderCounter = 0;
/** Writes `files` (relative path → content) into a fresh folder named `name` and returns its path. */
async function makeFolder(files: Record<string, Buffer | string>, name = 'content'): Promise<string> {
  const root = join(workdir, String(folderCounter++), name);
  await mkdir(root, { recursive: true });
  // Reverse order on purpose: the torrent's order must not depend on creation order.
  for (const [path, content] of Object.entries(files).reverse()) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

function create(input: string, options: CreateTorrentOptions = {}) {
  return createTorrent(input, { hashPool: pool, creationDate: false, ...options });
}

function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(isLodestoneError(error), `expected a LodestoneError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** Every piece hash equals SHA-1 of the matching slice of the concatenated content. */
function assertPiecesMatch(meta: TorrentMetadata, content: Buffer): void {
  assert.equal(meta.totalLength, content.length);
  assert.equal(meta.pieceCount, Math.ceil(content.length / meta.pieceLength));
  for (let i = 0; i < meta.pieceCount; i++) {
    const slice = content.subarray(i * meta.pieceLength, (i + 1) * meta.pieceLength);
    const expected = createHash('sha1').update(slice).digest();
    assert.deepEqual(meta.pieceHashes.subarray(i * 20, i * 20 + 20), expected, `piece ${i}`);
  }
}

function infoKeys(torrent: Buffer): string[] {
  const root = decode(torrent);
  assert.ok(isDict(root));
  const info = root.get('info');
  assert.ok(isDict(info));
  return [...info.keys()];
}

function rootKeys(torrent: Buffer): string[] {
  const root = decode(torrent);
  assert.ok(isDict(root));
  return [...root.keys()];
}

describe('createTorrent: single file', () => {
  test('hashes the content; info holds exactly name, piece length, pieces, length', async () => {
    const content = randomBytes(100_000);
    const folder = await makeFolder({ 'movie.bin': content });
    const { torrent, meta, skipped } = await create(join(folder, 'movie.bin'), { pieceLength: 16 * KiB });
    assert.equal(meta.name, 'movie.bin');
    assert.equal(meta.multiFile, false);
    assert.deepEqual(meta.files, [{ path: ['movie.bin'], length: 100_000, offset: 0, padding: false }]);
    assertPiecesMatch(meta, content);
    assert.deepEqual(infoKeys(torrent), ['length', 'name', 'piece length', 'pieces']);
    assert.deepEqual(skipped, []);
    assert.deepEqual(parseTorrent(torrent).infoHash, meta.infoHash);
  });

  test('pieces span read chunks: 9 MiB with 8 MiB and 16 KiB pieces', async () => {
    const content = randomBytes(9 * MiB + 7);
    const folder = await makeFolder({ 'big.bin': content });
    for (const pieceLength of [8 * MiB, 16 * KiB]) {
      const { meta } = await create(join(folder, 'big.bin'), { pieceLength });
      assertPiecesMatch(meta, content);
    }
  });

  test('the name option renames the torrent', async () => {
    const folder = await makeFolder({ 'a.bin': 'abc' });
    const { meta } = await create(join(folder, 'a.bin'), { name: 'renamed.bin' });
    assert.equal(meta.name, 'renamed.bin');
  });
});

describe('createTorrent: folders', () => {
  const files: Record<string, string> = {
    'b.txt': 'bee',
    'a/b': 'inside a',
    'a-c/x': 'dash sorts before slash',
    a0: 'zero sorts after slash',
    '.hidden': 'hidden files are included',
    'empty.txt': '',
    'sub/deeper/z.dat': 'deep',
    'sub/deeper/also-empty': '',
    'Upper.txt': 'upper case sorts first',
  };
  // strcmp order of the "/"-joined paths, as mktorrent and transmission-create sort.
  const expectedOrder = [
    '.hidden',
    'Upper.txt',
    'a-c/x',
    'a/b',
    'a0',
    'b.txt',
    'empty.txt',
    'sub/deeper/also-empty',
    'sub/deeper/z.dat',
  ];

  test('nested files, empty and hidden files, in strcmp order; every piece verifies', async () => {
    const folder = await makeFolder(files, 'album');
    const { torrent, meta } = await create(folder, { pieceLength: 16 * KiB });
    assert.equal(meta.name, 'album');
    assert.equal(meta.multiFile, true);
    assert.deepEqual(
      meta.files.map((file) => file.path.slice(1).join('/')),
      expectedOrder,
    );
    assert.deepEqual(
      meta.files.map((file) => file.length),
      expectedOrder.map((path) => Buffer.byteLength(files[path]!)),
    );
    const content = Buffer.concat(expectedOrder.map((path) => Buffer.from(files[path]!)));
    assertPiecesMatch(meta, content);
    assert.deepEqual(infoKeys(torrent), ['files', 'name', 'piece length', 'pieces']);
  });

  test('order is by UTF-8 bytes, not UTF-16 code units', async () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (F0 9F 98 80) in bytes,
    // but after it in UTF-16 (FF5E > D83D).
    const folder = await makeFolder({ '\u{1F600}.txt': 'smile', '\uFF5E.txt': 'tilde' });
    const { meta } = await create(folder);
    assert.deepEqual(
      meta.files.map((file) => file.path[1]),
      ['\uFF5E.txt', '\u{1F600}.txt'],
    );
  });

  test('the same folder gives the same bytes every time', async () => {
    const folder = await makeFolder(files);
    const first = await create(folder, { trackers: [[TRACKER]] });
    const second = await create(folder, { trackers: [[TRACKER]] });
    assert.deepEqual(first.torrent, second.torrent);
  });

  test('symlinks: files inside are followed; outside, broken and folder links are skipped', async () => {
    const outside = await makeFolder({ 'secret.txt': 'private' }, 'outside');
    const folder = await makeFolder({ 'real/file.txt': 'linked content', 'plain.txt': 'plain' }, 'links');
    await symlink(join('real', 'file.txt'), join(folder, 'inside-link.txt'));
    await symlink(join(outside, 'secret.txt'), join(folder, 'outside-link.txt'));
    await symlink(join(folder, 'missing'), join(folder, 'broken-link'));
    await symlink('.', join(folder, 'loop'));
    await symlink('real', join(folder, 'real-dir-link'));
    const { meta, skipped } = await create(folder);
    assert.deepEqual(
      meta.files.map((file) => [file.path.slice(1).join('/'), file.length]),
      [
        ['inside-link.txt', 14],
        ['plain.txt', 5],
        ['real/file.txt', 14],
      ],
    );
    assert.deepEqual(
      skipped.sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: 'broken-link', reason: 'broken symbolic link' },
        { path: 'loop', reason: 'symbolic link to a folder' },
        { path: 'outside-link.txt', reason: 'symbolic link to outside the folder' },
        { path: 'real-dir-link', reason: 'symbolic link to a folder' },
      ],
    );
    assertPiecesMatch(meta, Buffer.from('linked contentplainlinked content'));
  });

  test('a folder given through a symlink is followed', async () => {
    const folder = await makeFolder({ 'x.txt': 'x' }, 'target');
    const link = join(dirname(folder), 'via-link');
    await symlink(folder, link);
    const { meta } = await create(link);
    assert.equal(meta.name, 'via-link');
    assert.deepEqual(meta.files[0]?.path, ['via-link', 'x.txt']);
  });
});

describe('createTorrent: refusals', () => {
  test('a file name with a control character is refused', async () => {
    const folder = await makeFolder({ 'ok.txt': 'fine', 'dir/ctrl\x01char': 'bad' });
    await rejectsWith(create(folder), 'LODESTONE_ERR_UNSAFE_PATH', /unsafe path component/);
  });

  // Windows-only rules: off Windows these are real files (the Linux sources hold aux.c), and a
  // torrent of them parses back with the same names; clients on Windows rewrite them.
  const windowsOnly = ['CON', 'aux.c', 'nul.txt', 'trailing.', 'space ', 'C:colon'];
  if (process.platform !== 'win32') {
    test('names unsafe only on Windows are kept and parse back unchanged', async () => {
      const contents = Object.fromEntries(windowsOnly.map((name) => [`dir/${name}`, name]));
      const folder = await makeFolder({ 'ok.txt': 'fine', ...contents });
      const parsed = parseTorrent((await create(folder)).torrent);
      const names = parsed.files.map((file) => file.path.at(-1));
      for (const name of windowsOnly) assert.ok(names.includes(name), `${name} kept`);
      assert.ok(
        parsed.files.every((file) => file.originalPath === undefined),
        'nothing renamed',
      );
    });
  }
  test('with the Windows rules on, such names are refused', () => {
    for (const name of windowsOnly) {
      assert.throws(() => assertSafeComponent(name, 'x', { windows: true }), /unsafe path component/);
      assert.doesNotThrow(() => assertSafeComponent(name, 'x', { windows: false }));
    }
  });

  test('a file name that is not UTF-8 is refused', async () => {
    const folder = await makeFolder({ 'ok.txt': 'fine' });
    await writeFile(Buffer.concat([Buffer.from(`${folder}/bad-`), Buffer.from([0xff, 0xfe])]), 'x');
    await rejectsWith(create(folder), 'LODESTONE_ERR_UNSAFE_PATH', /not valid UTF-8/);
  });

  test('an unsafe name option is refused', async () => {
    const folder = await makeFolder({ 'ok.txt': 'fine' });
    await rejectsWith(create(folder, { name: '..' }), 'LODESTONE_ERR_UNSAFE_PATH');
  });

  test('no data at all is a usage error', async () => {
    const folder = await makeFolder({ 'empty.txt': '', 'sub/also-empty': '' });
    await rejectsWith(create(folder), 'LODESTONE_ERR_USAGE', /nothing to share/);
    await rejectsWith(create(join(folder, 'empty.txt')), 'LODESTONE_ERR_USAGE', /nothing to share/);
  });

  test('a missing input is an I/O error', async () => {
    await rejectsWith(create(join(workdir, 'does-not-exist')), 'LODESTONE_ERR_IO', /no such file/);
  });

  test('an aborted signal stops creation', async () => {
    const folder = await makeFolder({ 'a.bin': randomBytes(1000) });
    await rejectsWith(create(folder, { signal: AbortSignal.abort() }), 'LODESTONE_ERR_ABORTED');
  });

  test('aborting while hashing stops with no further progress reports', async () => {
    const folder = await makeFolder({ 'a.bin': randomBytes(12 * MiB) });
    const controller = new AbortController();
    let reportsAfterAbort = 0;
    const pending = create(folder, {
      pieceLength: 16 * KiB,
      signal: controller.signal,
      onProgress: () => {
        if (controller.signal.aborted) reportsAfterAbort++;
        else controller.abort();
      },
    });
    await rejectsWith(pending, 'LODESTONE_ERR_ABORTED');
    await new Promise((resolveLater) => setTimeout(resolveLater, 50));
    assert.equal(reportsAfterAbort, 0);
  });

  test('bad tracker and web seed URLs are usage errors', async () => {
    const folder = await makeFolder({ 'a.txt': 'a' });
    await rejectsWith(create(folder, { trackers: [['not a url']] }), 'LODESTONE_ERR_USAGE', /tracker/);
    await rejectsWith(create(folder, { trackers: [['file:///etc/passwd']] }), 'LODESTONE_ERR_USAGE');
    await rejectsWith(
      create(folder, { webSeeds: ['udp://127.0.0.1:1/'] }),
      'LODESTONE_ERR_USAGE',
      /web seed/,
    );
  });
});

describe('piece length', () => {
  test('automatic: smallest power of two ≥ 16 KiB with at most 2048 pieces, at most 16 MiB', () => {
    const table: [number, number][] = [
      [1, 16 * KiB],
      [1 * MiB, 16 * KiB],
      [32 * MiB, 16 * KiB], // exactly 2048 pieces
      [32 * MiB + 1, 32 * KiB],
      [100 * MiB, 64 * KiB],
      [700 * MiB, 512 * KiB],
      [1024 * MiB, 512 * KiB],
      [4096 * MiB, 2 * MiB],
      [32 * 1024 * MiB, 16 * MiB],
      [1024 * 1024 * MiB, 16 * MiB],
    ];
    for (const [total, expected] of table) assert.equal(autoPieceLength(total), expected, `${total} bytes`);
  });

  test('automatic piece length is used when none is given', async () => {
    const folder = await makeFolder({ 'a.bin': randomBytes(40 * MiB) });
    const { meta } = await create(folder);
    assert.equal(meta.pieceLength, 32 * KiB);
    assert.equal(meta.pieceCount, 1280);
  });

  test('explicit: a power of two from 16 KiB to 256 MiB', async () => {
    for (const ok of [16 * KiB, 64 * KiB, 4 * MiB, 256 * MiB]) assertValidPieceLength(ok);
    for (const bad of [
      0,
      -16384,
      1000,
      8 * KiB,
      3 * 16 * KiB,
      16 * KiB + 0.5,
      512 * MiB,
      2 ** 40,
      Number.NaN,
    ]) {
      assert.throws(() => assertValidPieceLength(bad), { code: 'LODESTONE_ERR_USAGE' }, String(bad));
    }
    const folder = await makeFolder({ 'a.txt': 'a' });
    await rejectsWith(create(folder, { pieceLength: 20_000 }), 'LODESTONE_ERR_USAGE', /power of two/);
  });

  test('command-line sizes: bytes or binary suffixes', () => {
    const table: [string, number][] = [
      ['262144', 262144],
      ['256KiB', 256 * KiB],
      ['256k', 256 * KiB],
      ['256 KB', 256 * KiB],
      ['1MiB', MiB],
      ['4m', 4 * MiB],
      ['16384b', 16384],
    ];
    for (const [text, expected] of table) assert.equal(parsePieceLength(text), expected, text);
    for (const bad of ['', 'abc', '1.5MiB', '1GiB', '-1', '256 kibibytes']) {
      assert.throws(() => parsePieceLength(bad), { code: 'LODESTONE_ERR_USAGE' }, bad);
    }
  });
});

describe('createTorrent: outer fields', () => {
  test('private flag sets info.private = 1', async () => {
    const folder = await makeFolder({ 'a.txt': 'a' });
    const { torrent, meta } = await create(folder, { private: true });
    assert.equal(meta.private, true);
    assert.deepEqual(infoKeys(torrent), ['files', 'name', 'piece length', 'pieces', 'private']);
    const publicOne = await create(folder);
    assert.equal(publicOne.meta.private, false);
    assert.notDeepEqual(publicOne.meta.infoHash, meta.infoHash);
  });

  test('tiers: announce is the first URL, announce-list only with more than one URL', async () => {
    const folder = await makeFolder({ 'a.txt': 'a' });
    const tiers = [[TRACKER], ['udp://127.0.0.1:6969', 'http://127.0.0.2:80/announce']];
    const many = await create(folder, { trackers: tiers });
    assert.deepEqual(many.meta.announceTiers, tiers);
    assert.ok(rootKeys(many.torrent).includes('announce-list'));
    const root = decode(many.torrent);
    assert.ok(isDict(root));
    assert.equal(bytesToText(root.get('announce') as Uint8Array), TRACKER);

    const one = await create(folder, { trackers: [[TRACKER]] });
    assert.deepEqual(one.meta.announceTiers, [[TRACKER]]);
    assert.deepEqual(rootKeys(one.torrent), ['announce', 'created by', 'info']);

    const none = await create(folder);
    assert.deepEqual(none.meta.announceTiers, []);
    assert.deepEqual(rootKeys(none.torrent), ['created by', 'info']);
    // Trackers live outside info: the info-hash is the same.
    assert.deepEqual(none.meta.infoHash, one.meta.infoHash);
  });

  test('web seeds, comment, created by and creation date', async () => {
    const folder = await makeFolder({ 'a.txt': 'a' });
    const date = new Date('2024-05-06T07:08:09Z');
    const { meta } = await createTorrent(folder, {
      hashPool: pool,
      webSeeds: ['http://127.0.0.1:8080/files/', 'https://127.0.0.1/mirror/'],
      comment: 'made in a test',
      createdBy: 'test suite',
      creationDate: date,
    });
    assert.deepEqual(meta.webSeeds, ['http://127.0.0.1:8080/files/', 'https://127.0.0.1/mirror/']);
    assert.equal(meta.comment, 'made in a test');
    assert.equal(meta.createdBy, 'test suite');
    assert.equal(meta.creationDate?.getTime(), date.getTime());

    const defaults = await createTorrent(folder, { hashPool: pool });
    assert.equal(defaults.meta.createdBy, `Lodestone ${packageVersion}`);
    assert.ok(Math.abs((defaults.meta.creationDate?.getTime() ?? 0) - Date.now()) < 60_000);
    assert.equal((await create(folder)).meta.creationDate, undefined);
  });
});

describe('createTorrent: hashing', () => {
  test('progress only grows and ends at the total', async () => {
    const content = randomBytes(3 * MiB + 123);
    const folder = await makeFolder({ 'a.bin': content.subarray(0, MiB), 'b/c.bin': content.subarray(MiB) });
    const reports: [number, number][] = [];
    const { meta } = await create(folder, {
      pieceLength: 16 * KiB,
      onProgress: (hashed, total) => reports.push([hashed, total]),
    });
    assert.equal(reports.length, meta.pieceCount);
    let previous = 0;
    for (const [hashed, total] of reports) {
      assert.equal(total, content.length);
      assert.ok(hashed > previous, 'strictly growing');
      previous = hashed;
    }
    assert.equal(previous, content.length);
    assertPiecesMatch(meta, content);
  });

  test('without a pool a private one is made and the process is not kept alive', async () => {
    const folder = await makeFolder({ 'a.bin': randomBytes(200_000) });
    const { meta } = await createTorrent(folder, { pieceLength: 16 * KiB });
    assert.equal(meta.pieceCount, 13);
  });

  test('a given pool is left usable', async () => {
    const folder = await makeFolder({ 'a.bin': 'abc' });
    await create(folder);
    const digest = await pool.hash([Buffer.from('abc')]);
    assert.equal(digest.toString('hex'), createHash('sha1').update('abc').digest('hex'));
  });
});
