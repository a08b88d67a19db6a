/**
 * BEP 47 symlinks and the executable attribute in FileStorage. Metadata is
 * built by hand (as parsing would leave it), so storage's own checks are what
 * is tested, including targets parsing would never produce.
 */
import assert from 'node:assert/strict';
import { lstat, readFile, readlink, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { SymlinkTarget } from '../../../src/metainfo/types.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { type Fixture, makeFixture, tempDir } from './fixtures.js';

async function lstatOrUndefined(path: string) {
  return lstat(path).catch(() => undefined);
}

/** A torrent "t": real.bin (20 bytes), then zero-length entries at `links`, then tail.bin. */
function withLinks(links: { path: string[]; symlink: SymlinkTarget }[]): Fixture {
  const fixture = makeFixture(
    [
      { path: ['t', 'real.bin'], length: 20 },
      { path: ['t', 'e', 'f', 'x.bin'], length: 4 },
      ...links.map((link) => ({ path: link.path, length: 0 })),
      { path: ['t', 'tail.bin'], length: 8 },
    ],
    16,
  );
  links.forEach((link, i) => {
    fixture.meta.files[2 + i]!.symlink = link.symlink;
  });
  return fixture;
}

async function writeAll(storage: FileStorage, fixture: Fixture): Promise<void> {
  for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i));
}

describe('FileStorage: BEP 47 symlinks', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test('creates a relative link to a target inside the torrent folder; it holds no data', async () => {
    const fixture = withLinks([
      { path: ['t', 'sub', 'link'], symlink: { target: ['t', 'real.bin'], original: ['real.bin'] } },
    ]);
    const storage = new FileStorage(fixture.meta, dir);
    await storage.open();
    await writeAll(storage, fixture);
    await storage.close();
    const link = join(dir, 't', 'sub', 'link');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), join('..', 'real.bin'));
    assert.deepEqual(await readFile(link), fixture.content.subarray(0, 20));
    assert.equal(fixture.meta.totalLength, 32, 'the link is not in the piece space');
  });

  test('resuming complete data (no piece written): createEntriesOf makes the link and the empty file', async () => {
    const fixture = withLinks([
      { path: ['t', 'sub', 'link'], symlink: { target: ['t', 'real.bin'], original: ['real.bin'] } },
    ]);
    fixture.meta.files.splice(3, 0, { path: ['t', 'empty.txt'], length: 0, offset: 24, padding: false });
    const first = new FileStorage(fixture.meta, dir);
    await writeAll(first, fixture);
    await first.close();
    await rm(join(dir, 't', 'sub'), { recursive: true });
    await rm(join(dir, 't', 'empty.txt'));
    const resumed = new FileStorage(fixture.meta, dir);
    await resumed.open();
    await resumed.createEntriesOf({ has: () => true });
    await resumed.close();
    assert.ok((await lstat(join(dir, 't', 'sub', 'link'))).isSymbolicLink(), 'the link is made');
    assert.equal((await stat(join(dir, 't', 'empty.txt'))).size, 0, 'the empty file is made');
  });

  test('createEntriesOf leaves the entries of pieces not verified alone', async () => {
    const fixture = withLinks([
      { path: ['t', 'sub', 'link'], symlink: { target: ['t', 'real.bin'], original: ['real.bin'] } },
    ]);
    const storage = new FileStorage(fixture.meta, dir);
    await storage.open();
    await storage.createEntriesOf({ has: () => false });
    await storage.close();
    assert.equal(await lstatOrUndefined(join(dir, 't', 'sub', 'link')), undefined);
  });

  test('a link whose target left the torrent folder (target null) is not created', async () => {
    const fixture = withLinks([
      { path: ['t', 'evil'], symlink: { target: null, original: ['..', '..', 'etc', 'passwd'] } },
    ]);
    const storage = new FileStorage(fixture.meta, dir);
    await writeAll(storage, fixture);
    await storage.close();
    assert.equal(await lstatOrUndefined(join(dir, 't', 'evil')), undefined);
    assert.ok((await stat(join(dir, 't', 'tail.bin'))).isFile(), 'the rest of the torrent is written');
  });

  test('a target outside the torrent folder is refused by storage itself', async () => {
    const fixture = withLinks([
      { path: ['t', 'evil'], symlink: { target: ['t', '..', 'outside'], original: ['..', 'outside'] } },
    ]);
    const storage = new FileStorage(fixture.meta, dir);
    await assert.rejects(writeAll(storage, fixture), { code: 'LODESTONE_ERR_UNSAFE_PATH' });
    await storage.close();
    assert.equal(await lstatOrUndefined(join(dir, 't', 'evil')), undefined);
  });

  test('no link is made in a folder reached through another link', async () => {
    const fixture = withLinks([
      { path: ['t', 'd'], symlink: { target: ['t', 'e', 'f'], original: ['e', 'f'] } },
      { path: ['t', 'd', 'l'], symlink: { target: ['t', 'real.bin'], original: ['real.bin'] } },
    ]);
    const storage = new FileStorage(fixture.meta, dir);
    await writeAll(storage, fixture);
    await storage.close();
    assert.ok((await lstat(join(dir, 't', 'd'))).isSymbolicLink());
    assert.equal(await readlink(join(dir, 't', 'd')), join('e', 'f'));
    assert.equal(await lstatOrUndefined(join(dir, 't', 'e', 'f', 'l')), undefined);
  });

  test('an existing entry at the link path is left alone', async () => {
    const fixture = withLinks([
      { path: ['t', 'link'], symlink: { target: ['t', 'real.bin'], original: ['real.bin'] } },
    ]);
    const storage = new FileStorage(fixture.meta, dir);
    await writeAll(storage, fixture);
    await writeAll(storage, fixture);
    await storage.close();
    assert.equal(await readlink(join(dir, 't', 'link')), 'real.bin');
  });
});

describe('FileStorage: BEP 47 executable attribute', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test('files with attr x are created executable, others not', {
    skip: process.platform === 'win32',
  }, async () => {
    const fixture = makeFixture(
      [
        { path: ['t', 'run.sh'], length: 10 },
        { path: ['t', 'data'], length: 10 },
        { path: ['t', 'empty-tool'], length: 0 },
      ],
      16,
    );
    fixture.meta.files[0]!.executable = true;
    fixture.meta.files[2]!.executable = true;
    const storage = new FileStorage(fixture.meta, dir);
    await writeAll(storage, fixture);
    await storage.close();
    assert.equal((await stat(join(dir, 't', 'run.sh'))).mode & 0o100, 0o100);
    assert.equal((await stat(join(dir, 't', 'empty-tool'))).mode & 0o100, 0o100);
    assert.equal((await stat(join(dir, 't', 'data'))).mode & 0o111, 0);
  });
});
