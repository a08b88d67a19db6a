/**
 * A daemon torrent's `have` with neither a running session nor a last-known bitfield (while its
 * check waits or runs after a verify): the same empty bitfield on every read, so `complete`'s
 * memo (keyed on the bitfield's identity) holds and a full queue plan does not allocate per torrent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { DaemonTorrentEntry } from '../../../src/daemon/daemon-torrent.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { testTorrentState } from '../../helpers/torrent-state.js';

test('an entry with no known pieces returns one empty bitfield, sized to its metadata', () => {
  const entry = new DaemonTorrentEntry(1, testTorrentState({ hash: '1'.padStart(40, '0'), name: 't' }));
  const before = entry.have;
  assert.equal(before.size, 0, 'no metadata yet: no pieces');
  assert.equal(entry.have, before, 'the same bitfield on the next read');
  entry.meta = parseTorrent(
    encode({ info: { name: 't', 'piece length': 16384, pieces: Buffer.alloc(60), length: 3 * 16384 } }),
  );
  const sized = entry.have;
  assert.equal(sized.size, 3);
  assert.equal(sized.count, 0);
  assert.equal(entry.have, sized);
  assert.equal(entry.complete, false);
});
