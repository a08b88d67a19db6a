/**
 * `torrent-get` with `ids: "recently-active"` is all Transmission's web client asks for once the
 * page is up (every refresh, and right after each start, stop, add or file change it makes): a
 * torrent missing from it never shows up in the list, or keeps its old state. As Transmission's
 * `anyDate`, a torrent is "recently active" for a minute after it is added (even paused),
 * started, stopped, verified, changed or moved in the queue, not only after bytes moved. The
 * in-process daemon with its clock moved by hand; no peer ever connects.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { daemonFixture, randomData, trackedTorrentOf } from '../helpers/daemon-fixture.js';

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
    assert.deepEqual(recent(), [two.torrent.id], 'just moved in the queue');
    later(61_000);
    assert.deepEqual(recent(), []);
  });
});
