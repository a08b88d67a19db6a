/**
 * `torrent-get` with `ids: "recently-active"` is all Transmission's web client asks for once the
 * page is up (every refresh, and right after each start, stop, add or file change it makes): a
 * torrent missing from it never shows up in the list, or keeps its old state. As Transmission's
 * `anyDate`, a torrent is "recently active" for a minute after it is added (even paused),
 * started, stopped (by the user, or by a seed limit), verified, changed or moved in the queue, not
 * only after bytes moved. The
 * in-process daemon with its clock moved by hand; no peer ever connects.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { daemonFixture, randomData, seeding, trackedTorrentOf, until } from '../helpers/daemon-fixture.js';

const HOST = '127.0.0.106';

describe('recently-active, as the web client polls it', { timeout: 30_000 }, () => {
  test('added paused, stopped, started, changed, queue-moved: listed for a minute after each', async (t) => {
    const fx = await daemonFixture(t, HOST);
    let offset = 0;
    const daemon = await fx.open({ now: () => Date.now() + offset });
    const recent = (): number[] => daemon.torrents('recently-active').map((torrent) => torrent.id);
    const later = (ms: number): void => {
      offset += ms;
    };

    const one = await daemon.add({
      source: { kind: 'metainfo', bytes: trackedTorrentOf('one.bin', randomData(40_000)).bytes },
      paused: true,
    });
    assert.deepEqual(recent(), [one.torrent.id], 'a torrent added paused is listed');
    later(61_000);
    assert.deepEqual(recent(), [], 'a minute later, with nothing done, it is not');

    const two = await daemon.add({
      source: { kind: 'metainfo', bytes: trackedTorrentOf('two.bin', randomData(30_000)).bytes },
      paused: true,
    });
    assert.deepEqual(recent(), [two.torrent.id]);
    later(61_000);

    await daemon.start([one.torrent.id]);
    assert.deepEqual(recent(), [one.torrent.id], 'just started');
    later(61_000);
    await daemon.stop([one.torrent.id]);
    assert.deepEqual(recent(), [one.torrent.id], 'just stopped');
    // Stopped during its first check: stopped, not left "checking" by the session winding down.
    assert.equal(daemon.torrents('recently-active')[0]?.summary().status, 'stopped');
    later(61_000);
    assert.deepEqual(recent(), []);

    await daemon.set([two.torrent.id], { filesWanted: [0] });
    assert.deepEqual(recent(), [two.torrent.id], 'just changed');
    later(61_000);
    await daemon.queueMove([two.torrent.id], 'top');
    // The one it passed moved too, and is listed as well: Transmission's tr_torrentSetQueuePosition
    // sets `anyDate` on every torrent whose position shifts.
    assert.deepEqual(recent(), [two.torrent.id, one.torrent.id], 'just moved in the queue (both)');
    later(61_000);
    assert.deepEqual(recent(), []);
  });

  test('a download the queue sets back to waiting is listed', async (t) => {
    const fx = await daemonFixture(t, HOST);
    let offset = 0;
    const daemon = await fx.open({ now: () => Date.now() + offset });
    await daemon.updateSettings({ 'download-queue-enabled': true, 'download-queue-size': 2 });
    const ids: number[] = [];
    for (const name of ['first.bin', 'second.bin']) {
      const { torrent } = await daemon.add({
        source: { kind: 'metainfo', bytes: trackedTorrentOf(name, randomData(20_000)).bytes },
      });
      ids.push(torrent.id);
    }
    await until('both downloading', () =>
      daemon.torrents().every((torrent) => torrent.summary().status === 'downloading'),
    );
    offset = 61_000;
    assert.deepEqual(
      daemon.torrents('recently-active').map((torrent) => torrent.id),
      [],
      'no peer, no bytes: not listed',
    );
    await daemon.updateSettings({ 'download-queue-size': 1 });
    await until('one waits', () =>
      daemon.torrents().some((torrent) => torrent.summary().status === 'download-wait'),
    );
    const waiting = daemon.torrents().find((torrent) => torrent.summary().status === 'download-wait');
    assert.deepEqual(
      daemon.torrents('recently-active').map((torrent) => torrent.id),
      [waiting?.id],
      'just set back to waiting: listed',
    );
  });

  test('a seed stopped by the idle limit is listed, though it moved no bytes for minutes', async (t) => {
    const fx = await daemonFixture(t, HOST);
    const data = randomData(48 * 1024);
    await mkdir(fx.downloadDir, { recursive: true });
    await writeFile(join(fx.downloadDir, 'idle.bin'), data);
    let offset = 0;
    const daemon = await fx.open({ now: () => Date.now() + offset });
    await daemon.updateSettings({ 'idle-seeding-limit-enabled': true, 'idle-seeding-limit': 2 });
    const { torrent } = await daemon.add({
      source: { kind: 'metainfo', bytes: trackedTorrentOf('idle.bin', data).bytes },
    });
    await until('seeding', () => seeding(torrent));
    offset = 61_000;
    assert.deepEqual(
      daemon.torrents('recently-active').map((item) => item.id),
      [],
      'seeding, idle: not listed',
    );
    offset = 121_000;
    await until('the idle seed stops', () => torrent.summary().status === 'stopped', 5_000);
    assert.deepEqual(
      daemon.torrents('recently-active').map((item) => item.id),
      [torrent.id],
      'just stopped by the idle limit: listed',
    );
  });
});
