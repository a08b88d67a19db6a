/**
 * The state folder writes a torrent's state file only when its text changed: the daemon saves
 * every running torrent every 30 s and every torrent at close (1,000 idle torrents were 1,000
 * fsync'd writes each time). A rewrite is an atomic rename, so a new inode tells it apart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { StateFolder } from '../../../src/daemon/state-folder.js';
import { decodeTorrentState, type TorrentState } from '../../../src/daemon/torrent-state.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

const STATE: TorrentState = testTorrentState({
  hash: 'cd'.repeat(20),
  name: 'x',
  magnet: `magnet:?xt=urn:btih:${'cd'.repeat(20)}`,
  addedDate: 1_700_000_000_000,
});

async function withFolder(run: (folder: StateFolder, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-state-saves-'));
  try {
    await run(new StateFolder(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const inode = async (path: string) => (await stat(path)).ino;

describe('state folder saves', { timeout: 30_000 }, () => {
  test('the same state twice is written once; a change (and its undoing) is written', async () => {
    await withFolder(async (folder) => {
      const path = folder.statePath(STATE.hash);
      await folder.saveState(STATE);
      const first = await inode(path);
      await folder.saveState({ ...STATE });
      assert.equal(await inode(path), first, 'an unchanged state was written again');
      await folder.saveState({ ...STATE, uploadedEver: 5 });
      const second = await inode(path);
      assert.notEqual(second, first);
      assert.equal(decodeTorrentState(await readFile(path, 'utf8')).uploadedEver, 5);
      await folder.saveState(STATE);
      assert.notEqual(await inode(path), second);
      assert.equal(decodeTorrentState(await readFile(path, 'utf8')).uploadedEver, 0);
    });
  });

  test('a state read at start is not written again unchanged', async () => {
    await withFolder(async (folder, dir) => {
      await folder.saveState(STATE);
      const restarted = new StateFolder(dir);
      const [loaded] = await restarted.loadTorrents(() => assert.fail('nothing to skip'));
      const before = await inode(restarted.statePath(STATE.hash));
      await restarted.saveState(loaded!.state);
      assert.equal(await inode(restarted.statePath(STATE.hash)), before);
    });
  });

  test('a failed write is tried again at the next save; a removed torrent is written again', async () => {
    await withFolder(async (folder) => {
      // The torrents folder is a file: the write fails.
      await writeFile(folder.torrentsDir, 'not a folder');
      await assert.rejects(folder.saveState(STATE));
      await rm(folder.torrentsDir);
      await folder.saveState(STATE);
      assert.equal(decodeTorrentState(await readFile(folder.statePath(STATE.hash), 'utf8')).hash, STATE.hash);
      await folder.removeTorrent(STATE.hash);
      await folder.saveState(STATE);
      await stat(folder.statePath(STATE.hash));
    });
  });

  test('every state is read back in name order, the bad ones reported in that order', async () => {
    await withFolder(async (folder, dir) => {
      const hashes = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(2, '0').repeat(20));
      for (const hash of hashes)
        await folder.saveState({ ...STATE, hash, magnet: `magnet:?xt=urn:btih:${hash}` });
      await writeFile(folder.statePath(hashes[5]!), '{');
      await writeFile(folder.statePath(hashes[30]!), '[]');
      const warnings: string[] = [];
      const loaded = await new StateFolder(dir).loadTorrents((message) => warnings.push(message));
      assert.deepEqual(
        loaded.map((item) => item.state.hash),
        hashes.filter((_, i) => i !== 5 && i !== 30),
      );
      assert.equal(warnings.length, 2);
      assert.match(warnings[0]!, new RegExp(hashes[5]!));
      assert.match(warnings[1]!, new RegExp(hashes[30]!));
    });
  });
});
