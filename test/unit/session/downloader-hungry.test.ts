/**
 * A verified piece refills the peers that were left wanting (the picker had nothing more for
 * them), not only the peer that sent the piece: here the partial-piece budget is one piece, so
 * the second seed gets nothing until the first seed's piece is verified, and then gets its
 * request at once, without a block of its own or a tick.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { downloaderHarness, FakeDownloaderConnection } from './fixtures.js';

const PIECE = 16_384;
const PIECES = 6;

test('a verified piece refills the peers the picker had nothing for', async () => {
  const { data, peers, downloader } = downloaderHarness(PIECES, PIECE, { maxPartialPieces: 1 });
  const add = (key: string) => {
    const connection = new FakeDownloaderConnection(key);
    const peer = new PeerState(connection as unknown as PeerConnection, PIECES, () => 0);
    peers.set(key, peer);
    downloader.onBitfield(peer, Bitfield.full(PIECES));
    downloader.onUnchoke(peer);
    return { connection, peer };
  };
  const verified: number[] = [];
  downloader.on('piece-verified', (index) => verified.push(index));
  const a = add('a');
  const b = add('b');
  assert.equal(a.connection.requests.length, 1, 'the budget allows one piece in flight');
  assert.equal(b.connection.requests.length, 0, 'nothing left for the second seed');

  const [first] = a.connection.requests.splice(0);
  downloader.onPiece(
    a.peer,
    first!.index,
    0,
    data.subarray(first!.index * PIECE, (first!.index + 1) * PIECE),
  );
  for (let i = 0; i < 5 && verified.length === 0; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(verified, [first!.index]);
  assert.equal(
    a.connection.requests.length + b.connection.requests.length,
    1,
    'the freed slot went to one of the waiting seeds',
  );
  assert.equal(b.connection.requests.length, 1, 'the seed that waited longest came first');
});
