/**
 * `recently-active` (Transmission's web client polls it) follows `changedAtMs`, which no action
 * sets by hand any more: a change of phase stamps it, and so does a save that changes the
 * torrent's state file. An unchanged save or the same phase again does not.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DaemonTorrentEntry } from '../../../src/daemon/daemon-torrent.js';
import { StateFolder } from '../../../src/daemon/state-folder.js';
import type { TorrentState } from '../../../src/daemon/torrent-state.js';
import { lastTouchedMs, selectTorrents } from '../../../src/daemon/torrent-status.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

function state(): TorrentState {
  return testTorrentState({
    hash: 'ab'.repeat(20),
    name: 'x',
    magnet: `magnet:?xt=urn:btih:${'ab'.repeat(20)}`,
    paused: true,
    addedDate: 1_000,
  });
}

function entryAt(clock: { t: number }): DaemonTorrentEntry {
  const entry = new DaemonTorrentEntry(1, state());
  entry.now = () => clock.t;
  return entry;
}

const recentlyActive = (entry: DaemonTorrentEntry, now: number) =>
  selectTorrents(
    [{ id: entry.id, hash: entry.hash, activityMs: lastTouchedMs(entry), entry }],
    'recently-active',
    now,
  ).length === 1;

describe('changedAtMs is derived', () => {
  test('a change of phase stamps it; the same phase again does not', () => {
    const clock = { t: 500_000 };
    const entry = entryAt(clock);
    assert.equal(entry.changedAtMs, 0);
    assert.equal(recentlyActive(entry, clock.t), false, 'added long ago, untouched');
    entry.phase = 'queued';
    assert.equal(entry.changedAtMs, 500_000);
    assert.equal(recentlyActive(entry, clock.t + 59_000), true);
    clock.t = 700_000;
    entry.phase = 'queued';
    assert.equal(entry.changedAtMs, 500_000, 'no change, no stamp');
    assert.equal(recentlyActive(entry, clock.t), false);
    entry.phase = 'checking';
    assert.equal(entry.changedAtMs, 700_000);
  });

  test('a save that changes the state file stamps it; an unchanged save does not', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lodestone-changed-at-'));
    try {
      const folder = new StateFolder(dir);
      const clock = { t: 100_000 };
      const entry = entryAt(clock);
      const save = () => folder.saveState(entry.state, () => entry.noteStateChanged());
      await save();
      assert.equal(entry.changedAtMs, 100_000, 'first written');
      clock.t = 200_000;
      await save();
      assert.equal(entry.changedAtMs, 100_000, 'same text: nothing written, no stamp');
      // Any kept change, whatever action made it (here a label, which no code path stamps by hand).
      entry.state.settings = { ...entry.state.settings, labels: ['new'] };
      await save();
      assert.equal(entry.changedAtMs, 200_000);
      assert.equal(recentlyActive(entry, 230_000), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
