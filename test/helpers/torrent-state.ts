/** A daemon torrent's kept state for unit tests: the defaults of a fresh add, with `overrides`. */
import { defaultTorrentSettings, type TorrentState } from '../../src/daemon/torrent-state.js';

export function testTorrentState(overrides: Partial<TorrentState> & { hash: string }): TorrentState {
  // Keys in the order a decoded state has them (Object.assign keeps it): the state file's text,
  // compared to skip unchanged saves, follows the object's key order.
  const state: TorrentState = {
    hash: overrides.hash,
    name: overrides.hash,
    magnet: undefined,
    savePath: '/d',
    paused: false,
    addedDate: 0,
    doneDate: 0,
    activityDate: 0,
    uploadedEver: 0,
    downloadedEver: 0,
    corruptEver: 0,
    settings: defaultTorrentSettings(50),
    filesWanted: undefined,
    filePriorities: undefined,
    queuePosition: 0,
    trackerList: undefined,
    error: undefined,
  };
  return Object.assign(state, overrides);
}
