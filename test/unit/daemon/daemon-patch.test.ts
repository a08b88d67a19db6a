import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { applyPatch, moveInQueue } from '../../../src/daemon/daemon-patch.js';
import { DaemonTorrentEntry } from '../../../src/daemon/daemon-torrent.js';
import type { TorrentState } from '../../../src/daemon/torrent-state.js';
import { DaemonError } from '../../../src/errors.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

function entry(id: number, withMeta = true): DaemonTorrentEntry {
  const state: TorrentState = testTorrentState({
    hash: String(id).padStart(40, '0'),
    name: `t${id}`,
    queuePosition: id,
  });
  const made = new DaemonTorrentEntry(id, state);
  if (withMeta)
    made.meta = parseTorrent(
      encode({
        info: {
          name: 'set',
          'piece length': 16384,
          pieces: Buffer.alloc(20),
          files: [
            { length: 100, path: ['a'] },
            { length: 200, path: ['b'] },
            { length: 300, path: ['c'] },
          ],
        },
      }),
    );
  return made;
}

const refused = (pattern: RegExp) => (error: unknown) =>
  error instanceof DaemonError &&
  error.code === 'LODESTONE_ERR_DAEMON_TORRENT' &&
  pattern.test(error.message);

describe('set: checking and keeping a torrent patch', { timeout: 10_000 }, () => {
  test('settings, file selection and priorities are kept and shown by files()/summary()', () => {
    const torrent = entry(1);
    applyPatch(
      torrent,
      { filesUnwanted: [1], priorityHigh: [2], sequential: true, labels: ['x'], downloadLimit: 1000 },
      { dryRun: false },
    );
    assert.deepEqual(
      torrent.files().map((f) => [f.wanted, f.priority]),
      [
        [true, 'normal'],
        [false, 'normal'],
        [true, 'high'],
      ],
    );
    const summary = torrent.summary();
    assert.equal(summary.sizeWhenDone, 400, 'unwanted files do not count');
    assert.equal(summary.settings.sequential, true);
    assert.deepEqual(summary.settings.labels, ['x']);
    assert.equal(summary.settings.downloadLimit, 1000);
    applyPatch(torrent, { filesWanted: [], downloadLimit: undefined }, { dryRun: false });
    assert.ok(
      torrent.files().every((f) => f.wanted),
      'an empty list means every file',
    );
    assert.equal(torrent.summary().settings.downloadLimit, undefined, 'undefined clears the limit');
  });

  test('bad values are refused, and a dry run changes nothing', () => {
    const torrent = entry(1);
    const before = JSON.stringify(torrent.state);
    assert.throws(
      () => applyPatch(torrent, { filesWanted: [3] }, { dryRun: true }),
      refused(/filesWanted index/),
    );
    assert.throws(() => applyPatch(torrent, { peerLimit: 0 }, { dryRun: true }), refused(/peerLimit/));
    assert.throws(
      () => applyPatch(torrent, { seedRatioLimit: -1 }, { dryRun: true }),
      refused(/seedRatioLimit/),
    );
    assert.throws(() => applyPatch(torrent, { labels: ['a,b'] }, { dryRun: true }), refused(/label/));
    assert.throws(
      () => applyPatch(torrent, { trackerList: [['ftp://x']] }, { dryRun: true }),
      refused(/tracker URL/),
    );
    assert.throws(
      () => applyPatch(torrent, { seedIdleMode: 'x' as never }, { dryRun: true }),
      refused(/seedIdleMode/),
    );
    applyPatch(torrent, { sequential: true, trackerList: [['udp://t:1']] }, { dryRun: true });
    assert.equal(JSON.stringify(torrent.state), before);
    assert.throws(
      () => applyPatch(entry(2, false), { filesWanted: [0] }, { dryRun: true }),
      refused(/not known yet/),
    );
  });

  test('queue moves renumber every position', () => {
    const queue = [entry(0), entry(1), entry(2), entry(3)];
    moveInQueue(queue, queue[3]!, 0);
    assert.deepEqual(
      queue.map((t) => t.id),
      [3, 0, 1, 2],
    );
    assert.deepEqual(
      queue.map((t) => t.state.queuePosition),
      [0, 1, 2, 3],
    );
    moveInQueue(queue, queue[0]!, 99);
    assert.deepEqual(
      queue.map((t) => t.id),
      [0, 1, 2, 3],
    );
  });
});
