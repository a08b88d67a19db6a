import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { closeSurplus, yieldLeastUseful } from '../../../src/session/peer-slots.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { FakeDownloaderConnection } from './fixtures.js';

/** A peer table where each peer connected at `connectedAt` and last sent a piece at `lastPieceAt`. */
function table(rows: { key: string; connectedAt: number; lastPieceAt: number }[]) {
  const peers = new Map<string, PeerState>();
  const connections = new Map<string, FakeDownloaderConnection>();
  for (const row of rows) {
    const connection = new FakeDownloaderConnection(row.key);
    const peer = new PeerState(connection as unknown as PeerConnection, 4, () => row.connectedAt);
    peer.lastPieceAt = row.lastPieceAt;
    peers.set(row.key, peer);
    connections.set(row.key, connection);
  }
  const closed = () => [...connections.values()].filter((c) => c.closed).map((c) => c.key);
  return { peers, connections, closed };
}

describe('peer slots', () => {
  const rows = [
    { key: 'a:1', connectedAt: 100, lastPieceAt: 900 }, // useful lately
    { key: 'b:1', connectedAt: 200, lastPieceAt: 200 }, // never useful, connected early
    { key: 'c:1', connectedAt: 500, lastPieceAt: 500 }, // never useful, connected later
    { key: 'd:1', connectedAt: 50, lastPieceAt: 300 },
  ];

  test('a lowered limit closes the least recently useful peers down to it', () => {
    const { peers, closed, connections } = table(rows);
    closeSurplus(peers, 2);
    assert.deepEqual(closed().sort(), ['b:1', 'd:1']);
    assert.equal(connections.get('b:1')?.closeReason, "over the torrent's peer limit");
  });

  test('a limit at or above the peers connected closes nothing', () => {
    const { peers, closed } = table(rows);
    closeSurplus(peers, 4);
    closeSurplus(peers, 10);
    assert.deepEqual(closed(), []);
  });

  test('yielding a slot closes the least recently useful peer, one only', () => {
    const { peers, closed } = table(rows);
    assert.equal(yieldLeastUseful(peers), true);
    assert.deepEqual(closed(), ['b:1']);
  });

  test('nothing to yield in an empty table', () => {
    assert.equal(yieldLeastUseful(new Map()), false);
  });
});
