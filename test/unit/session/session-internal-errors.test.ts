/**
 * A TorrentSession never lets an exception escape into a callback where it would end the host
 * process: a listener that throws while the announcer's promise chain calls it is reported as
 * 'internal-error' (the session goes on), and a fatal failure with no 'error' listener is kept
 * in `failure` and becomes a process warning instead of a throw. No sockets: a fake tracker.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import type { InternalErrorInfo } from '../../../src/session/torrent-session.js';
import { TorrentSession } from '../../../src/session/torrent-session.js';
import { HashPool } from '../../../src/storage/hasher.js';
import { MemoryStorage } from '../../../src/storage/memory-storage.js';
import type { AnnounceResponse, TrackerClient } from '../../../src/tracker/types.js';
import { pieceHashesOf } from '../../helpers/piece-hashes.js';

// This file observes internal errors; strict mode (the suite's default) would rethrow them.
process.env.LODESTONE_STRICT = '0';

const content = Buffer.alloc(64 * 1024, 7);
const meta = parseTorrent(
  encode({
    announce: 'http://127.0.0.1:9/announce',
    info: {
      name: 'x.bin',
      'piece length': 16 * 1024,
      pieces: pieceHashesOf(content, 16 * 1024),
      length: content.length,
    },
  }),
);
const pool = new HashPool({ workers: 1 });
after(() => pool.destroy());

/** A tracker that answers every announce at once, with no peers. */
function fakeTracker(url: string): TrackerClient {
  return {
    url,
    announce: async (): Promise<AnnounceResponse> => ({ interval: 1800, peers: [] }),
    close: () => {},
  };
}

function newSession(): TorrentSession {
  return new TorrentSession({
    meta,
    storage: new MemoryStorage(meta),
    hashPool: pool,
    peerId: Buffer.alloc(20, 1),
    port: 0,
    checkExisting: false,
    createTrackerClient: fakeTracker,
  });
}

test("a 'tracker-response' listener that throws is reported as internal-error, not an unhandled rejection", {
  timeout: 10_000,
}, async () => {
  const session = newSession();
  const bug = new TypeError('listener bug');
  session.on('tracker-response', () => {
    throw bug;
  });
  const reported = once(session, 'internal-error') as Promise<[InternalErrorInfo]>;
  await session.start();
  try {
    const [info] = await reported;
    assert.equal(info.error, bug);
  } finally {
    await session.stop();
  }
});

test('an internal error nobody listens for is a process warning', { timeout: 10_000 }, async () => {
  const session = newSession();
  session.on('tracker-response', () => {
    throw new RangeError('unheard bug');
  });
  const warned = once(process, 'warning') as Promise<[Error & { code?: string }]>;
  await session.start();
  try {
    const [warning] = await warned;
    assert.equal(warning.name, 'LodestoneWarning');
    assert.match(warning.message, /unheard bug/);
  } finally {
    await session.stop();
  }
});
