/**
 * Which peers hear of a verified piece: `have` goes to every peer that does not have the piece
 * (a partial peer, a peer whose bitfield has not come yet), never to one that has it (a seed, a
 * peer that announced it with `have`), including a seed that left and came back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { bits } from '../policy/picker-helpers.js';
import { downloaderHarness, FakeDownloaderConnection } from './fixtures.js';

const PIECE = 16_384;
const PIECES = 4;

function havesOf(connection: FakeDownloaderConnection): number[] {
  return connection.sent.flatMap((message) => (message.type === 'have' ? [message.index] : []));
}

test('have goes only to peers that lack the piece, also after a seed reconnects', async () => {
  const { data, peers, downloader } = downloaderHarness(PIECES, PIECE);
  const add = (key: string, has?: Bitfield) => {
    const connection = new FakeDownloaderConnection(key);
    const peer = new PeerState(connection as unknown as PeerConnection, PIECES, () => 0);
    peers.set(key, peer);
    downloader.peerAdded(peer); // as the session's handshake does
    if (has) downloader.onBitfield(peer, has);
    return { connection, peer };
  };
  const verified: number[] = [];
  downloader.on('piece-verified', (index) => verified.push(index));
  /** The seed answers every request it got (one block per piece here). */
  const serve = async (seed: { connection: FakeDownloaderConnection; peer: PeerState }, index: number) => {
    downloader.onPiece(seed.peer, index, 0, data.subarray(index * PIECE, (index + 1) * PIECE));
    for (let i = 0; i < 5 && !verified.includes(index); i++) await new Promise((r) => setImmediate(r));
    assert.ok(verified.includes(index), `piece ${index} verified`);
  };

  let seed = add('seed', Bitfield.full(PIECES));
  const partial = add('partial', bits('0100'));
  const silent = add('silent'); // connected, no bitfield yet
  const announcer = add('announcer', bits('0000'));
  downloader.onHave(announcer.peer, 2);
  downloader.onUnchoke(seed.peer);

  await serve(seed, 0);
  await serve(seed, 1);
  assert.deepEqual(havesOf(seed.connection), [], 'a seed hears of nothing it has');
  assert.deepEqual(havesOf(partial.connection), [0], 'the partial peer has piece 1 already');
  assert.deepEqual(havesOf(silent.connection), [0, 1], 'no bitfield yet: told of every piece');
  assert.deepEqual(havesOf(announcer.connection), [0, 1]);

  // The seed goes and comes back (a new connection, a new full bitfield).
  downloader.peerGone(seed.peer);
  peers.delete('seed');
  seed = add('seed', Bitfield.full(PIECES));
  downloader.onUnchoke(seed.peer);
  await serve(seed, 2);
  await serve(seed, 3);
  assert.deepEqual(havesOf(seed.connection), [], 'the returning seed hears of nothing either');
  assert.deepEqual(havesOf(partial.connection), [0, 2, 3]);
  assert.deepEqual(havesOf(silent.connection), [0, 1, 2, 3]);
  assert.deepEqual(havesOf(announcer.connection), [0, 1, 3], 'it announced piece 2 with have');
  assert.equal(downloader.finished, true);
  assert.equal(seed.connection.amInterested, false, 'nothing left to want from the seed');
});
