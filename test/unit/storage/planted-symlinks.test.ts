/**
 * Symlinks someone else planted in the download folder (issue 15): storage
 * never reads, writes, creates or extends anything through a link that
 * leads outside its root, and says which path it refused. Real temporary
 * folders throughout; the swaps "during an open" are done by a file system
 * wrapper that changes the folder just before (or around) the real open.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { isLodestoneError } from '../../../src/errors.js';
import { checkExisting } from '../../../src/storage/check.js';
import { FileStorage, type FileSystem } from '../../../src/storage/file-storage.js';
import { HashPool } from '../../../src/storage/hasher.js';
import { makeFixture, tempDir } from './fixtures.js';

const pool = new HashPool({ workers: 1 });
after(() => pool.destroy());

/** t/a.bin (10) | t/sub/deep/c.bin (22), pieces of 16: piece 0 spans both files, piece 1 only c.bin. */
const torrent = () =>
  makeFixture(
    [
      { path: ['t', 'a.bin'], length: 10 },
      { path: ['t', 'sub', 'deep', 'c.bin'], length: 22 },
    ],
    16,
  );

const VICTIM = Buffer.from('the outside file must stay exactly like this');

function refused(pathPart: RegExp) {
  return (error: unknown) => {
    assert.ok(isLodestoneError(error), String(error));
    assert.equal(error.code, 'LODESTONE_ERR_UNSAFE_PATH');
    assert.match(error.message, pathPart);
    return true;
  };
}

const exists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

describe('FileStorage: planted symlinks', { timeout: 20_000 }, () => {
  let dir = '';
  let out = '';
  let elsewhere = '';
  let cleanup = async () => {};
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    out = join(dir, 'out');
    elsewhere = join(dir, 'elsewhere');
    await mkdir(out);
    await mkdir(elsewhere);
  });
  afterEach(async () => {
    await cleanup();
  });

  async function writeEverything(storage: FileStorage, fixture = torrent()): Promise<void> {
    for (let i = 0; i < fixture.meta.pieceCount; i++) await storage.writePiece(i, fixture.blocks(i));
  }

  test('a file symlink to an outside file: the write is refused, the outside file untouched', async () => {
    const victim = join(elsewhere, 'victim.bin');
    await writeFile(victim, VICTIM);
    await mkdir(join(out, 't'));
    await symlink(victim, join(out, 't', 'a.bin'));
    const storage = new FileStorage(torrent().meta, out);
    await assert.rejects(writeEverything(storage), refused(/out\/t\/a\.bin.*outside the download folder/));
    await storage.close();
    assert.deepEqual(await readFile(victim), VICTIM);
  });

  test('a dangling file symlink to outside: nothing is created there', async () => {
    await mkdir(join(out, 't'));
    await symlink(join(elsewhere, 'new.bin'), join(out, 't', 'a.bin'));
    const storage = new FileStorage(torrent().meta, out);
    await assert.rejects(writeEverything(storage), refused(/out\/t\/a\.bin/));
    await storage.close();
    assert.deepEqual(await readdir(elsewhere), []);
  });

  test('the torrent folder itself is a symlink to outside (out/t -> elsewhere)', async () => {
    const victim = join(elsewhere, 'a.bin');
    await writeFile(victim, VICTIM);
    await symlink(elsewhere, join(out, 't'));
    const storage = new FileStorage(torrent().meta, out);
    await assert.rejects(writeEverything(storage), refused(/out\/t\b/));
    await storage.close();
    assert.deepEqual(await readFile(victim), VICTIM);
    assert.deepEqual(await readdir(elsewhere), ['a.bin'], 'no folder or file made outside');
  });

  test('a subfolder is a symlink to outside (out/t/sub -> elsewhere): no folders made on the way', async () => {
    await mkdir(join(out, 't'));
    await symlink(elsewhere, join(out, 't', 'sub'));
    const storage = new FileStorage(torrent().meta, out);
    await assert.rejects(writeEverything(storage), refused(/out\/t\/sub\b/));
    await storage.close();
    assert.deepEqual(await readdir(elsewhere), [], 'elsewhere/deep was not created');
  });

  test('a link inside the folder that leads inside it is followed (and the root may be a link)', async () => {
    // The root reached through a link, a folder link and a file link, all resolving inside it.
    const realOut = join(dir, 'real-out');
    await mkdir(join(realOut, 'store', 'deep'), { recursive: true });
    await mkdir(join(realOut, 't'));
    await symlink(realOut, join(dir, 'out-link'));
    await symlink(join(realOut, 'store'), join(realOut, 't', 'sub'));
    await writeFile(join(realOut, 'store', 'a-data.bin'), '');
    await symlink(join(realOut, 'store', 'a-data.bin'), join(realOut, 't', 'a.bin'));
    const fixture = torrent();
    const storage = new FileStorage(fixture.meta, join(dir, 'out-link'));
    await writeEverything(storage, fixture);
    await storage.close();
    assert.deepEqual(await readFile(join(realOut, 'store', 'a-data.bin')), fixture.content.subarray(0, 10));
    assert.deepEqual(await readFile(join(realOut, 'store', 'deep', 'c.bin')), fixture.content.subarray(10));
  });

  test('seeding and the resume check never read through a link to outside', async () => {
    // The outside file holds exactly the torrent's bytes: following the link would "verify" and leak it.
    const fixture = torrent();
    await writeFile(join(elsewhere, 'secret.bin'), fixture.content.subarray(0, 10));
    await mkdir(join(out, 't', 'sub', 'deep'), { recursive: true });
    await writeFile(join(out, 't', 'sub', 'deep', 'c.bin'), fixture.content.subarray(10));
    await symlink(join(elsewhere, 'secret.bin'), join(out, 't', 'a.bin'));
    const storage = new FileStorage(fixture.meta, out);
    await assert.rejects(storage.read(0, 0, 4), refused(/out\/t\/a\.bin/));
    await assert.rejects(checkExisting(fixture.meta, storage, pool), refused(/out\/t\/a\.bin/));
    // Piece 1 lies in c.bin only, a real file inside: it still reads.
    assert.deepEqual(await storage.read(1, 0, 16), fixture.piece(1));
    await storage.close();
  });

  test('a folder on the way swapped for an outside link during the open is caught', async () => {
    const fixture = torrent();
    const sub = join(out, 't', 'sub');
    // c.bin exists inside; elsewhere has a look-alike that the swapped path would reach.
    await mkdir(join(sub, 'deep'), { recursive: true });
    await writeFile(join(sub, 'deep', 'c.bin'), '');
    await mkdir(join(elsewhere, 'deep'));
    await writeFile(join(elsewhere, 'deep', 'c.bin'), VICTIM);
    for (const swapBack of [false, true]) {
      let swapped = false;
      const racing: FileSystem = {
        mkdir: fsPromises.mkdir,
        stat: fsPromises.stat,
        async open(path, flags, mode) {
          if (!swapped && path.endsWith('c.bin')) {
            // The attacker wins the race: after the folder check, before the open.
            swapped = true;
            await rename(sub, `${sub}.real`);
            await symlink(elsewhere, sub);
            try {
              return await fsPromises.open(path, flags, mode);
            } finally {
              if (swapBack) {
                await rm(sub);
                await rename(`${sub}.real`, sub);
              }
            }
          }
          return fsPromises.open(path, flags, mode);
        },
      };
      const storage = new FileStorage(fixture.meta, out, { fileSystem: racing, writeThread: false });
      await assert.rejects(
        storage.writePiece(1, fixture.blocks(1)),
        refused(/c\.bin.*changed while being opened/),
      );
      await storage.close();
      assert.ok(swapped);
      assert.deepEqual(await readFile(join(elsewhere, 'deep', 'c.bin')), VICTIM, `swap back: ${swapBack}`);
      if (!swapBack) {
        await rm(sub);
        await rename(`${sub}.real`, sub);
      }
    }
  });

  test('nothing outside is even opened: folders are checked before the open, link targets before following', async () => {
    const fixture = torrent();
    await writeFile(join(elsewhere, 'secret.bin'), fixture.content.subarray(0, 10));
    await mkdir(join(elsewhere, 'deep'));
    await writeFile(join(elsewhere, 'deep', 'c.bin'), fixture.content.subarray(10));
    await mkdir(join(out, 't'));
    await symlink(join(elsewhere, 'secret.bin'), join(out, 't', 'a.bin'));
    await symlink(elsewhere, join(out, 't', 'sub'));
    const realElsewhere = await fsPromises.realpath(elsewhere);
    const reached: string[] = [];
    const spying: FileSystem = {
      mkdir: fsPromises.mkdir,
      stat: fsPromises.stat,
      async open(path, flags, mode) {
        // What the open reaches: with O_NOFOLLOW the last component itself, else whatever it leads to.
        const noFollow = typeof flags === 'number' && (flags & constants.O_NOFOLLOW) !== 0;
        const real = noFollow
          ? join(await fsPromises.realpath(dirname(path)).catch(() => dirname(path)), basename(path))
          : await fsPromises.realpath(path).catch(() => path);
        if (real.startsWith(realElsewhere)) reached.push(real);
        return fsPromises.open(path, flags, mode);
      },
    };
    const storage = new FileStorage(fixture.meta, out, { fileSystem: spying, writeThread: false });
    await assert.rejects(storage.read(0, 0, 16), refused(/out\/t\/(a\.bin|sub)/));
    await assert.rejects(storage.read(1, 0, 16), refused(/out\/t\/sub/));
    await assert.rejects(storage.writePiece(1, fixture.blocks(1)), refused(/out\/t\/sub/));
    await storage.close();
    // One file only, so no other range's refusal settles the read first.
    const single = makeFixture([{ path: ['t', 'a.bin'], length: 10 }], 16);
    const alone = new FileStorage(single.meta, out, { fileSystem: spying, writeThread: false });
    await assert.rejects(alone.read(0, 0, 10), refused(/out\/t\/a\.bin.*leads outside/));
    await assert.rejects(alone.writePiece(0, single.blocks(0)), refused(/out\/t\/a\.bin.*leads outside/));
    await alone.close();
    assert.deepEqual(reached, [], 'open() was never pointed at anything outside');
  });

  test('a planted FIFO is refused promptly, not opened blocking', async (t) => {
    await mkdir(join(out, 't'));
    const fifo = join(out, 't', 'a.bin');
    if (spawnSync('mkfifo', [fifo]).status !== 0) {
      t.skip('no mkfifo here');
      return;
    }
    const storage = new FileStorage(torrent().meta, out);
    await assert.rejects(storage.read(0, 0, 4), refused(/out\/t\/a\.bin.*not a regular file/));
    await storage.close();
  });

  test('a file swapped for an outside link right before the open is not followed (O_NOFOLLOW)', async () => {
    const fixture = torrent();
    const target = join(out, 't', 'a.bin');
    await mkdir(join(out, 't'));
    await writeFile(target, '');
    let swapped = false;
    const racing: FileSystem = {
      mkdir: fsPromises.mkdir,
      stat: fsPromises.stat,
      async open(path, flags, mode) {
        if (!swapped && path === target) {
          swapped = true;
          await rm(target);
          await symlink(join(elsewhere, 'planted.bin'), target);
        }
        return fsPromises.open(path, flags, mode);
      },
    };
    const storage = new FileStorage(fixture.meta, out, { fileSystem: racing, writeThread: false });
    await assert.rejects(storage.writePiece(0, fixture.blocks(0)), refused(/out\/t\/a\.bin/));
    await storage.close();
    assert.ok(swapped);
    assert.equal(await exists(join(elsewhere, 'planted.bin')), false, 'the dangling target was not created');
  });
});
