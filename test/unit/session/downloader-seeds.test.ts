/**
 * A verified piece concerns only the peers that are not seeds: with 200 seeds, walking every
 * peer per piece (to send `have` and count useful pieces) was the last O(peers) loop per piece.
 * Seeds get no `have` and stay interested until nothing wanted is missing; partial peers and
 * peers that sent no bitfield yet hear of every piece they lack, as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { bits } from '../policy/picker-helpers.js';
import { downloaderHarness, FakeDownloaderConnection } from './fixtures.js';

const PIECE = 16_384;
const PIECES = 6;

function havesOf(connection: FakeDownloaderConnection): number[] {
  return connection.sent.flatMap((message) => (message.type === 'have' ? [message.index] : []));
}

test('a verified piece walks only the peers that are not seeds', async () => {
  const { data, peers, downloader } = downloaderHarness(PIECES, PIECE);
  const add = (key: string, has?: Bitfield) => {
    const connection = new FakeDownloaderConnection(key);
    const peer = new PeerState(connection as unknown as PeerConnection, PIECES, () => 0);
    peers.set(key, peer);
    downloader.peerAdded(peer); // as the session's handshake does
    if (has) downloader.onBitfield(peer, has);
    return { connection, peer };
  };
  const seeds = Array.from({ length: 3 }, (_, i) => add(`seed${i}`, Bitfield.full(PIECES)));
  const partial = add('partial', bits('110000'));
  const silent = add('silent'); // no bitfield yet
  const late = add('late', bits('000000'));
  for (let i = 0; i < PIECES; i++) downloader.onHave(late.peer, i); // a seed by haves
  assert.ok(late.connection.amInterested);

  // Every walk over the whole peer map is counted from here.
  let walks = 0;
  const values = peers.values.bind(peers);
  peers.values = () => {
    walks++;
    return values();
  };
  const verified: number[] = [];
  downloader.on('piece-verified', (index) => verified.push(index));
  const [first] = seeds;
  downloader.onUnchoke(first!.peer);
  const serve = async (index: number) => {
    downloader.onPiece(first!.peer, index, 0, data.subarray(index * PIECE, (index + 1) * PIECE));
    for (let i = 0; i < 5 && !verified.includes(index); i++) await new Promise((r) => setImmediate(r));
    assert.ok(verified.includes(index), `piece ${index} verified`);
  };
  const asked = first!.connection.requests.map((r) => r.index);
  assert.equal(asked.length, PIECES, 'one block per piece, all asked of the first seed');
  for (const index of asked.slice(0, -1)) await serve(index);

  assert.equal(walks, 0, 'no verified piece walked every peer');
  const lastIndex = asked.at(-1)!;
  const before = asked.slice(0, -1);
  for (const seed of [...seeds, late]) {
    assert.deepEqual(havesOf(seed.connection), [], `${seed.peer.key} hears of nothing it has`);
    assert.ok(seed.connection.amInterested, `${seed.peer.key}: still something to want`);
  }
  assert.deepEqual(havesOf(silent.connection), before, 'no bitfield yet: told of every piece');
  assert.deepEqual(
    havesOf(partial.connection),
    before.filter((i) => i >= 2),
    'the partial peer is told of what it lacks',
  );
  assert.equal(partial.connection.amInterested, false, 'it has nothing more we want');

  await serve(lastIndex);
  assert.ok(downloader.finished);
  for (const seed of [...seeds, late]) assert.equal(seed.connection.amInterested, false);
});

test('a seed that leaves and a peer that loses seed status are handled', async () => {
  const { data, peers, downloader } = downloaderHarness(PIECES, PIECE);
  const connection = new FakeDownloaderConnection('aria2');
  const peer = new PeerState(connection as unknown as PeerConnection, PIECES, () => 0);
  peers.set(peer.key, peer);
  downloader.peerAdded(peer);
  downloader.onBitfield(peer, Bitfield.full(PIECES));
  // aria2 sends its bitfield again mid-connection: now it lacks piece 5, and hears of it.
  downloader.onBitfield(peer, bits('111110'));
  const other = new FakeDownloaderConnection('other');
  const seed = new PeerState(other as unknown as PeerConnection, PIECES, () => 0);
  peers.set(seed.key, seed);
  downloader.peerAdded(seed);
  downloader.onBitfield(seed, Bitfield.full(PIECES));
  downloader.onUnchoke(seed);
  const verified: number[] = [];
  downloader.on('piece-verified', (index) => verified.push(index));
  const index = 5;
  assert.ok(other.requests.some((r) => r.index === index));
  downloader.onPiece(seed, index, 0, data.subarray(index * PIECE, (index + 1) * PIECE));
  for (let i = 0; i < 5 && !verified.includes(index); i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(havesOf(connection), [5]);
  assert.deepEqual(havesOf(other), []);
  // A peer that left hears of nothing more.
  peers.delete(peer.key);
  downloader.peerGone(peer);
  const next = other.requests.find((r) => r.index !== index)!.index;
  downloader.onPiece(seed, next, 0, data.subarray(next * PIECE, (next + 1) * PIECE));
  for (let i = 0; i < 5 && !verified.includes(next); i++) await new Promise((r) => setImmediate(r));
  assert.ok(verified.includes(next));
  assert.deepEqual(havesOf(connection), [5]);
});
