/**
 * An add is answered only once the torrent would survive a crash: 40 `torrent-add` calls over RPC
 * to the real daemon process, many at once; `kill -9` the moment the 25th success arrives (the
 * others still in flight); after a restart on the same state folder every torrent that was
 * answered "added" is there, with its name and paused state. (A kill -9 keeps what reached the
 * page cache, so this catches an answer sent before the files are written, e.g. a batch written
 * a few ms later; the fsyncs themselves are checked by test/unit/daemon/durable-files.test.ts.)
 * And an add whose state file cannot be written is refused, leaving nothing behind; two adds of
 * one torrent at once make one entry.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Daemon } from '../../src/daemon/daemon.js';
import { isLodestoneError } from '../../src/errors.js';
import { trackedTorrentOf } from '../helpers/daemon-fixture.js';
import { startDaemonProcess } from '../helpers/daemon-process.js';

const HOST = '127.0.0.71';
const TORRENTS = 40;
const KILL_AFTER = 25;
const IN_FLIGHT = 8;

describe('torrent-add is durable when answered', { timeout: 60_000 }, () => {
  test('kill -9 right after the answers: every answered torrent is there after a restart', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-add-durable-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const stateDir = join(root, 'state');
    const downloadDir = join(root, 'downloads');
    const torrents = Array.from({ length: TORRENTS }, (_, i) =>
      trackedTorrentOf(`t${i}.bin`, Buffer.alloc(20_000 + i, i)),
    );

    const daemon = await startDaemonProcess(t, { stateDir, downloadDir, host: HOST });
    const answered: string[] = [];
    let killed: Promise<void> | undefined;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < TORRENTS && killed === undefined) {
        const { meta, bytes } = torrents[next++]!;
        try {
          const result = await daemon.rpc<{ 'torrent-added'?: { hashString: string } }>('torrent-add', {
            metainfo: Buffer.from(bytes).toString('base64'),
            paused: true,
          });
          assert.equal(result['torrent-added']?.hashString, meta.infoHashHex);
        } catch (error) {
          // The kill cut this call off: it was never answered.
          if (killed !== undefined) return;
          throw error;
        }
        if (killed !== undefined) return;
        answered.push(meta.infoHashHex);
        // At once, in the same turn as the answer: nothing more of the daemon's runs meanwhile.
        if (answered.length === KILL_AFTER) killed = daemon.kill9();
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await killed;
    assert.equal(answered.length, KILL_AFTER);

    const again = await startDaemonProcess(t, { stateDir, downloadDir, host: HOST });
    const list = await again.rpc<{ torrents: { hashString: string; name: string; status: number }[] }>(
      'torrent-get',
      { fields: ['hashString', 'name', 'status'] },
    );
    const byHash = new Map(list.torrents.map((item) => [item.hashString, item]));
    const missing = answered.filter((hash) => !byHash.has(hash));
    assert.deepEqual(missing, [], `answered "added" but gone after kill -9: ${missing.length}`);
    for (const hash of answered) {
      const index = torrents.findIndex((item) => item.meta.infoHashHex === hash);
      assert.equal(byHash.get(hash)!.name, `t${index}.bin`);
      assert.equal(byHash.get(hash)!.status, 0, 'still paused');
    }
    await again.stop();
  });

  test('an add whose files cannot be written is refused, nothing left; two adds at once are one', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'lodestone-add-refused-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const stateDir = join(root, 'state');
    const { meta, bytes } = trackedTorrentOf('refused.bin', Buffer.alloc(30_000, 3));
    const daemon = await Daemon.open({
      stateDir,
      home: root,
      overrides: {
        'download-dir': join(root, 'downloads'),
        'peer-port': 0,
        'bind-address-ipv4': HOST,
        'dht-enabled': false,
      },
      client: { hashWorkers: 1 },
    });
    t.after(() => daemon.close());
    // A folder where its state file would go: the write fails (EISDIR), as a full disk would.
    await mkdir(join(stateDir, 'torrents', `${meta.infoHashHex}.json`), { recursive: true });
    await assert.rejects(
      daemon.add({ source: { kind: 'metainfo', bytes }, paused: true }),
      (error: unknown) => isLodestoneError(error) && error.code === 'LODESTONE_ERR_DAEMON_STATE',
    );
    assert.deepEqual(daemon.torrents(), []);
    assert.deepEqual(await readdir(join(stateDir, 'torrents')), [`${meta.infoHashHex}.json`]);
    // Once the way is clear the same torrent is added (the failed add left no reservation).
    await rm(join(stateDir, 'torrents', `${meta.infoHashHex}.json`), { recursive: true });
    const again = await daemon.add({ source: { kind: 'metainfo', bytes }, paused: true });
    assert.equal(again.duplicate, false);
    assert.equal(daemon.torrents().length, 1);
    // One torrent added twice at once: one entry; the second answer waits and says duplicate.
    const twice = trackedTorrentOf('twice.bin', Buffer.alloc(30_000, 4)).bytes;
    const both = await Promise.all(
      [0, 1].map(() => daemon.add({ source: { kind: 'metainfo', bytes: twice }, paused: true })),
    );
    assert.deepEqual(
      both.map((result) => result.duplicate),
      [false, true],
    );
    assert.equal(both[0]!.torrent.id, both[1]!.torrent.id);
    assert.equal(daemon.torrents().length, 2);
  });
});
