import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { selectTorrents, torrentStatus } from '../../../src/daemon/torrent-status.js';

describe('status mapping and selectors', { timeout: 10_000 }, () => {
  test("a torrent's phase and completeness give Transmission's seven states", () => {
    assert.equal(torrentStatus('stopped', false), 'stopped');
    assert.equal(torrentStatus('stopped', true), 'stopped');
    assert.equal(torrentStatus('check-wait', true), 'check-wait');
    assert.equal(torrentStatus('checking', false), 'checking');
    assert.equal(torrentStatus('queued', false), 'download-wait');
    assert.equal(torrentStatus('queued', true), 'seed-wait');
    assert.equal(torrentStatus('running', false), 'downloading');
    assert.equal(torrentStatus('running', true), 'seeding');
  });

  test('selectors: all, ids and hashes in any case (unknown skipped), recently active; queue order kept', () => {
    const list = [
      { id: 3, hash: 'cc'.repeat(20), activityMs: 0 },
      { id: 1, hash: 'aa'.repeat(20), activityMs: 95_000 },
      { id: 2, hash: 'bb'.repeat(20), activityMs: 30_000 },
    ];
    assert.deepEqual(
      selectTorrents(list, undefined, 100_000).map((t) => t.id),
      [3, 1, 2],
    );
    assert.deepEqual(
      selectTorrents(list, [2, 3, 99], 100_000).map((t) => t.id),
      [3, 2],
    );
    assert.deepEqual(
      selectTorrents(list, ['AA'.repeat(20), 'ff'.repeat(20)], 100_000).map((t) => t.id),
      [1],
    );
    assert.deepEqual(
      selectTorrents(list, 'recently-active', 100_000).map((t) => t.id),
      [1],
    );
    assert.deepEqual(selectTorrents(list, [], 100_000), []);
  });
});
