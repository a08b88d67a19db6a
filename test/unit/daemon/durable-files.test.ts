/**
 * A new torrent's files are durable before its add is answered, with few fsyncs in a row: the
 * files written and fsync'd together, then one fsync of the folder, shared by the adds that
 * arrive together (a group commit). The fs calls are injected and counted; no timing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type DurableOps, FolderSync, writeNewFilesDurably } from '../../../src/daemon/durable-files.js';
import { StateFolder } from '../../../src/daemon/state-folder.js';
import type { TorrentState } from '../../../src/daemon/torrent-state.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

function deferred(): { promise: Promise<void>; resolve(): void; reject(error: Error): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A folder fsync that ends when the test says so; `began` lists them in order. */
function controlledSync() {
  const began: { resolve(): void; reject(error: Error): void }[] = [];
  const sync = () => {
    const d = deferred();
    began.push(d);
    return d.promise;
  };
  return { began, sync };
}

describe('FolderSync (group commit of a folder fsync)', () => {
  test('calls made while an fsync runs wait for the next one, which they all share', async () => {
    const { began, sync } = controlledSync();
    const folder = new FolderSync('/f', sync);
    let firstDone = false;
    void folder.sync().then(() => {
      firstDone = true;
    });
    assert.equal(began.length, 1);
    const later: boolean[] = Array.from({ length: 10 }, () => false);
    for (let i = 0; i < 10; i++)
      void folder.sync().then(() => {
        later[i] = true;
      });
    assert.equal(began.length, 1, 'no second fsync while one runs');
    began[0]!.resolve();
    await settle();
    assert.equal(firstDone, true);
    // The fsync that ended may have begun before their changes: not enough for them.
    assert.deepEqual(later, Array(10).fill(false));
    assert.equal(began.length, 2, 'one fsync for the ten waiting calls');
    began[1]!.resolve();
    await settle();
    assert.deepEqual(later, Array(10).fill(true));
    assert.equal(folder.count, 2);
    // Idle again: the next call starts its own fsync at once.
    void folder.sync();
    assert.equal(began.length, 3);
    began[2]!.resolve();
  });

  test('a failed fsync fails its callers; the next one is tried afresh', async () => {
    const { began, sync } = controlledSync();
    const folder = new FolderSync('/f', sync);
    const first = folder.sync();
    const second = folder.sync();
    began[0]!.reject(new Error('EIO'));
    await assert.rejects(first, /EIO/);
    await settle();
    began[1]!.resolve();
    await second;
  });
});

describe('writeNewFilesDurably', () => {
  /** Each write and each fsync ends when the test says so; `events` lists what happened in order. */
  function recordingOps(failWrite?: string) {
    const events: string[] = [];
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const gate = (name: string) => {
      const d = deferred();
      gates.set(name, d);
      return d.promise;
    };
    const ops: DurableOps = {
      async write(path) {
        events.push(`write ${path}`);
        await gate(`write ${path}`);
        if (path === failWrite) throw new Error(`ENOSPC ${path}`);
        return {
          sync: async () => {
            events.push(`sync ${path}`);
            await gate(`sync ${path}`);
            events.push(`synced ${path}`);
          },
          close: async () => {
            events.push(`close ${path}`);
          },
        };
      },
      async syncFolder(dir) {
        events.push(`sync folder ${dir}`);
        await gate(`sync folder ${dir}`);
        events.push(`synced folder ${dir}`);
      },
      async remove(path) {
        events.push(`remove ${path}`);
      },
    };
    return { events, gates, ops };
  }
  const FILES = [
    { path: '/t/a.json', data: '{}' },
    { path: '/t/a.torrent', data: new Uint8Array(3) },
  ];

  test("the files are written, then they and the folder are fsync'd at once; resolves after all", async () => {
    const { events, gates, ops } = recordingOps();
    const folder = new FolderSync('/t', ops.syncFolder);
    let done = false;
    const writing = writeNewFilesDurably(FILES, folder, ops).then(() => {
      done = true;
    });
    await settle();
    assert.deepEqual(events, ['write /t/a.json', 'write /t/a.torrent'], 'written concurrently');
    gates.get('write /t/a.json')!.resolve();
    await settle();
    assert.ok(!events.includes('sync folder /t'), "the folder is fsync'd only once every name exists");
    gates.get('write /t/a.torrent')!.resolve();
    await settle();
    assert.deepEqual(
      events.slice(2).sort(),
      ['sync /t/a.json', 'sync /t/a.torrent', 'sync folder /t'].sort(),
    );
    for (const name of ['sync /t/a.json', 'sync folder /t']) {
      gates.get(name)!.resolve();
      await settle();
      assert.equal(done, false, `not durable yet after only ${name}`);
    }
    gates.get('sync /t/a.torrent')!.resolve();
    await writing;
    assert.equal(folder.count, 1);
    assert.ok(events.includes('close /t/a.json') && events.includes('close /t/a.torrent'));
  });

  test('a failed write removes both files, throws, and does not fsync the folder', async () => {
    const { events, gates, ops } = recordingOps('/t/a.torrent');
    const folder = new FolderSync('/t', ops.syncFolder);
    const writing = writeNewFilesDurably(FILES, folder, ops);
    await settle();
    for (const d of gates.values()) d.resolve();
    await assert.rejects(writing, /ENOSPC/);
    assert.ok(events.includes('remove /t/a.json') && events.includes('remove /t/a.torrent'));
    assert.ok(events.includes('close /t/a.json'), 'the written file is closed');
    assert.equal(folder.count, 0);
  });
});

describe('StateFolder.saveNewTorrent', () => {
  test('20 adds at once: all read back in order, only the final names on disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lodestone-new-torrent-'));
    try {
      const folder = new StateFolder(dir);
      const states: TorrentState[] = Array.from({ length: 20 }, (_, i) =>
        testTorrentState({
          hash: i.toString(16).padStart(40, '0'),
          name: `t${i}`,
          paused: true,
          addedDate: 1_700_000_000_000,
          queuePosition: i,
        }),
      );
      await Promise.all(
        states.map((state) => folder.saveNewTorrent(state, new Uint8Array([state.queuePosition, 1]))),
      );
      const names = (await readdir(folder.torrentsDir)).sort();
      assert.equal(names.length, 40);
      assert.ok(names.every((name) => /^[0-9a-f]{40}\.(json|torrent)$/.test(name)));
      const loaded = await new StateFolder(dir).loadTorrents((message) => assert.fail(message));
      assert.deepEqual(
        loaded.map((item) => item.state.name),
        states.map((state) => state.name),
      );
      assert.deepEqual(await readFile(folder.metainfoPath(states[7]!.hash)), Buffer.from([7, 1]));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
