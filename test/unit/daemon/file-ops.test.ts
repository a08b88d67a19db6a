import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { deleteTorrentData, moveTorrentData } from '../../../src/daemon/file-ops.js';
import { StateFolder } from '../../../src/daemon/state-folder.js';
import { DaemonError } from '../../../src/errors.js';

const file = (path: string[]) => ({ path, length: 1, offset: 0, padding: false });
const META = {
  files: [file(['set', 'a.bin']), file(['set', 'sub', 'b.bin']), file(['set', 'sub', 'deep', 'c.bin'])],
};

async function tree(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-fileops-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dl = join(root, 'dl');
  await mkdir(join(dl, 'set', 'sub', 'deep'), { recursive: true });
  for (const f of META.files) await writeFile(join(dl, ...f.path), f.path.join('/'));
  return root;
}

describe("a torrent's own files", { timeout: 10_000 }, () => {
  test('delete removes only its files and the folders left empty', async (t) => {
    const root = await tree(t);
    const dl = join(root, 'dl');
    await writeFile(join(dl, 'set', 'sub', 'mine.txt'), 'user file');
    await writeFile(join(dl, 'sibling.txt'), 'other');
    await deleteTorrentData(dl, META);
    assert.equal(existsSync(join(dl, 'set', 'a.bin')), false);
    assert.equal(existsSync(join(dl, 'set', 'sub', 'deep')), false, 'an emptied folder goes');
    assert.equal(
      await readFile(join(dl, 'set', 'sub', 'mine.txt'), 'utf8'),
      'user file',
      'a foreign file stays',
    );
    assert.equal(await readFile(join(dl, 'sibling.txt'), 'utf8'), 'other');
    assert.ok(existsSync(dl), 'the download folder itself stays');
  });

  test('a folder planted as a link to the outside is refused before anything is deleted', async (t) => {
    const root = await tree(t);
    const dl = join(root, 'dl');
    const outside = join(root, 'outside');
    await mkdir(join(outside, 'deep'), { recursive: true });
    await writeFile(join(outside, 'b.bin'), 'precious');
    await rm(join(dl, 'set', 'sub'), { recursive: true });
    await symlink(outside, join(dl, 'set', 'sub'));
    await assert.rejects(
      deleteTorrentData(dl, META),
      (error: unknown) => error instanceof DaemonError && /leads outside/.test(error.message),
    );
    assert.equal(await readFile(join(outside, 'b.bin'), 'utf8'), 'precious');
    assert.ok(existsSync(join(dl, 'set', 'a.bin')), 'nothing deleted');
  });

  test('move puts every file at the same place under the new folder and clears the old one', async (t) => {
    const root = await tree(t);
    const dl = join(root, 'dl');
    const to = join(root, 'to');
    await moveTorrentData(dl, to, META);
    for (const f of META.files) assert.equal(await readFile(join(to, ...f.path), 'utf8'), f.path.join('/'));
    assert.equal(existsSync(join(dl, 'set')), false);
  });

  test('the state folder lock: a live holder refuses, a dead one is taken over', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-lock-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const folder = new StateFolder(root);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(folder.lockFile, `${dead}\n`);
    await folder.lock();
    assert.equal((await readFile(folder.lockFile, 'utf8')).trim(), String(process.pid));
    await assert.rejects(new StateFolder(root).lock(), /another daemon/);
    await folder.unlock();
    const parent = process.ppid;
    await writeFile(folder.lockFile, `${parent}\n`);
    await assert.rejects(new StateFolder(root).lock(), new RegExp(`another daemon \\(PID ${parent}\\)`));
    // PID 1 is alive, and someone else's unless the tests run as root (kill(1, 0) → EPERM).
    await writeFile(folder.lockFile, '1\n');
    await assert.rejects(new StateFolder(root).lock(), /another daemon \(PID 1\)/);
  });
});
