import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkNewName, planRename, renameOnDisk, withFileNames } from '../../../src/daemon/rename-path.js';
import {
  decodeTorrentState,
  encodeTorrentState,
  type TorrentState,
} from '../../../src/daemon/torrent-state.js';
import { DaemonError } from '../../../src/errors.js';
import type { TorrentFile, TorrentMetadata } from '../../../src/metainfo/types.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

function refused(error: unknown): boolean {
  return error instanceof DaemonError && error.code === 'LODESTONE_ERR_DAEMON_TORRENT';
}

const ALBUM = [
  ['album', 'one.bin'],
  ['album', 'sub', 'two.bin'],
  ['album', 'sub', 'three.bin'],
];

describe('torrent-rename-path: the new name', { timeout: 10_000 }, () => {
  test('hostile names are refused with a typed error', () => {
    for (const name of [
      '',
      '.',
      '..',
      '../x',
      'a/b',
      '/abs',
      'a\\b',
      'nul\0byte',
      'tab\there',
      'x'.repeat(256),
      'é'.repeat(128),
      'CON',
      'trailing.',
    ])
      assert.throws(() => checkNewName(name), refused, JSON.stringify(name.slice(0, 20)));
  });

  test('ordinary names, up to 255 bytes, pass', () => {
    for (const name of ['new', 'new name.mkv', '..hidden', 'é'.repeat(127), 'x'.repeat(255), '日本語'])
      checkNewName(name);
  });
});

describe('torrent-rename-path: the plan', { timeout: 10_000 }, () => {
  test('the top folder: every file moves and the torrent is renamed', () => {
    const plan = planRename(ALBUM, 'album', 'record');
    assert.deepEqual(plan.affected, [0, 1, 2]);
    assert.deepEqual(plan.paths, [
      ['record', 'one.bin'],
      ['record', 'sub', 'two.bin'],
      ['record', 'sub', 'three.bin'],
    ]);
    assert.equal(plan.name, 'record');
  });

  test('a subfolder or a file: only what is under it; the name stays', () => {
    const sub = planRename(ALBUM, 'album/sub', 'disc2');
    assert.deepEqual(sub.affected, [1, 2]);
    assert.deepEqual(sub.paths[0], ['album', 'one.bin']);
    assert.deepEqual(sub.paths[2], ['album', 'disc2', 'three.bin']);
    assert.equal(sub.name, undefined);
    const file = planRename(ALBUM, 'album/one.bin', 'uno.bin');
    assert.deepEqual(file.affected, [0]);
    assert.deepEqual(file.paths[0], ['album', 'uno.bin']);
    assert.deepEqual(file.paths[1], ['album', 'sub', 'two.bin']);
  });

  test('a single-file torrent: renaming its file renames the torrent', () => {
    assert.equal(planRename([['movie.bin']], 'movie.bin', 'film.bin').name, 'film.bin');
  });

  test('a path matches whole components only', () => {
    // "album/su" is not a prefix of "album/sub/...".
    assert.throws(() => planRename(ALBUM, 'album/su', 'x'), refused);
    assert.throws(() => planRename(ALBUM, 'alb', 'x'), refused);
  });

  test('bad paths, unknown paths and clashes are refused', () => {
    for (const path of ['', '/album', 'album/', 'album//sub', 'album/../etc', './album', 'nothere'])
      assert.throws(() => planRename(ALBUM, path, 'x'), refused, path);
    // Another file of the torrent has the new path already, or a folder of that name.
    assert.throws(() => planRename(ALBUM, 'album/one.bin', 'sub'), refused);
    assert.throws(() => planRename(ALBUM, 'album/sub/two.bin', 'three.bin'), refused);
    assert.throws(() => planRename(ALBUM, 'album/one.bin', 'one.bin'), refused);
  });
});

describe('torrent-rename-path: any input', { timeout: 30_000 }, () => {
  test('property: any path and name is refused with a typed error or gives safe, distinct paths', () => {
    const part = fc.oneof(
      fc.constantFrom('album', 'sub', 'one.bin', 'two.bin', '.', '..', '', 'a/b', 'x\0'),
      fc.string({ maxLength: 300 }),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), part, (path, name) => {
        let plan: ReturnType<typeof planRename>;
        try {
          plan = planRename(ALBUM, path.join('/'), name);
        } catch (error) {
          assert.ok(refused(error), String(error));
          return;
        }
        for (const file of plan.paths) for (const component of file) checkNewName(component);
        assert.equal(new Set(plan.paths.map((file) => file.join('/'))).size, ALBUM.length);
      }),
      { numRuns: 2000 },
    );
  });
});

function meta(paths: string[][], extra: Partial<TorrentFile>[] = []): TorrentMetadata {
  return {
    name: paths[0]![0]!,
    files: paths.map((path, index) => ({ path, length: 1, offset: index, padding: false, ...extra[index] })),
  } as unknown as TorrentMetadata;
}

describe('torrent-rename-path: the stored names over the metainfo', { timeout: 10_000 }, () => {
  test('paths and name replaced; a link into a renamed folder follows it', () => {
    const original = meta(
      [...ALBUM, ['album', 'link']],
      [{}, {}, {}, { symlink: { target: ['album', 'sub', 'two.bin'], original: ['sub', 'two.bin'] } }],
    );
    const plan = planRename(
      original.files.map((f) => f.path),
      'album',
      'record',
    );
    const renamed = withFileNames(original, plan.paths, 'record');
    assert.equal(renamed.name, 'record');
    assert.deepEqual(renamed.files[1]!.path, ['record', 'sub', 'two.bin']);
    assert.deepEqual(renamed.files[3]!.symlink?.target, ['record', 'sub', 'two.bin']);
    // The metainfo's own object is not changed.
    assert.deepEqual(original.files[1]!.path, ['album', 'sub', 'two.bin']);
  });

  test('a hand-edited list that does not fit is refused', () => {
    const m = meta(ALBUM);
    assert.throws(() => withFileNames(m, ALBUM.slice(0, 2), 'album'), refused);
    assert.throws(() => withFileNames(m, [['album', '..'], ALBUM[1]!, ALBUM[2]!], 'album'), refused);
    assert.throws(() => withFileNames(m, [['album', 'a\0'], ALBUM[1]!, ALBUM[2]!], 'album'), refused);
    assert.throws(() => withFileNames(m, [ALBUM[1]!, ALBUM[1]!, ALBUM[2]!], 'album'), refused);
    // A file where another file's folder is.
    assert.throws(() => withFileNames(m, [['album', 'sub'], ALBUM[1]!, ALBUM[2]!], 'album'), refused);
  });

  test('the state file keeps the names; an old file without them reads as none', () => {
    const state: TorrentState = testTorrentState({
      hash: 'cd'.repeat(20),
      name: 'record',
      addedDate: 1,
      filePaths: [['record', 'one.bin']],
    });
    assert.deepEqual(decodeTorrentState(encodeTorrentState(state)).filePaths, [['record', 'one.bin']]);
    const old = JSON.parse(encodeTorrentState(state)) as Record<string, unknown>;
    delete old.filePaths;
    assert.equal(decodeTorrentState(JSON.stringify(old)).filePaths, undefined);
    assert.throws(() => decodeTorrentState(JSON.stringify({ ...old, filePaths: [['ok'], 7] })), DaemonError);
  });
});

describe('torrent-rename-path on disk', { timeout: 10_000 }, () => {
  async function tree(t: { after(fn: () => Promise<void>): void }): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-rename-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    await mkdir(join(root, 'dl', 'album', 'sub'), { recursive: true });
    await writeFile(join(root, 'dl', 'album', 'one.bin'), 'one');
    await writeFile(join(root, 'dl', 'album', 'sub', 'two.bin'), 'two');
    return root;
  }

  test('a folder and a file are renamed in place', async (t) => {
    const dl = join(await tree(t), 'dl');
    assert.equal(await renameOnDisk(dl, ['album', 'sub'], 'disc2'), true);
    assert.equal(await readFile(join(dl, 'album', 'disc2', 'two.bin'), 'utf8'), 'two');
    assert.equal(existsSync(join(dl, 'album', 'sub')), false);
    assert.equal(await renameOnDisk(dl, ['album'], 'record'), true);
    assert.equal(await readFile(join(dl, 'record', 'one.bin'), 'utf8'), 'one');
  });

  test('a file not created yet: nothing on disk, no error', async (t) => {
    const dl = join(await tree(t), 'dl');
    assert.equal(await renameOnDisk(dl, ['album', 'three.bin'], 'tres.bin'), false);
    assert.equal(existsSync(join(dl, 'album', 'tres.bin')), false);
  });

  test('a name that exists is refused and nothing moves', async (t) => {
    const dl = join(await tree(t), 'dl');
    await writeFile(join(dl, 'album', 'taken'), 'someone else');
    await assert.rejects(renameOnDisk(dl, ['album', 'one.bin'], 'taken'), refused);
    assert.equal(await readFile(join(dl, 'album', 'taken'), 'utf8'), 'someone else');
    assert.equal(await readFile(join(dl, 'album', 'one.bin'), 'utf8'), 'one');
    // Even for a file not on disk yet: the torrent would take someone else's file.
    await assert.rejects(renameOnDisk(dl, ['album', 'three.bin'], 'taken'), refused);
  });

  test('a folder that leads outside through a link is refused', async (t) => {
    const root = await tree(t);
    const dl = join(root, 'dl');
    await mkdir(join(root, 'outside'));
    await writeFile(join(root, 'outside', 'one.bin'), 'not the torrent');
    await rm(join(dl, 'album'), { recursive: true });
    await symlink(join(root, 'outside'), join(dl, 'album'));
    await assert.rejects(renameOnDisk(dl, ['album', 'one.bin'], 'x'), refused);
    assert.equal(await readFile(join(root, 'outside', 'one.bin'), 'utf8'), 'not the torrent');
  });
});
