/**
 * More peers than the partial-piece budget has room for (issue 18's 200 seeds against 512 budget
 * blocks): each peer is asked for a 256 KiB slice in one request batch and refilled once it has
 * answered all of it, so the budget goes round the peers slice by slice instead of a sliver of a
 * few blocks for every peer at once (each sliver a request write and short socket reads).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { downloaderHarness, FakeDownloaderConnection, type RecordedRequest } from './fixtures.js';

const BLOCK = 16_384;
const PIECE = 16 * BLOCK;
const PIECES = 24;
const MiB = 1024 * 1024;

/** Counts request batches (one socket write each in a real connection). */
class BatchCountingConnection extends FakeDownloaderConnection {
  readonly batches: number[] = [];
  override sendRequests(requests: readonly RecordedRequest[]): void {
    this.batches.push(requests.length);
    super.sendRequests(requests);
  }
}

async function settle(until: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !until(); i++) await new Promise((r) => setImmediate(r));
}

test('a crowded swarm asks each peer for whole 16-block slices in one batch, and refills a peer only once it answered them all', async () => {
  // 5 partial pieces of 16 blocks: 80 budget blocks for 12 equally fast seeds (6 each by rate).
  const { data, peers, downloader } = downloaderHarness(PIECES, PIECE, {
    maxPartialPieces: 5,
    downloader: { now: () => 0 },
  });
  const all: { peer: PeerState; connection: BatchCountingConnection }[] = [];
  for (let i = 0; i < 12; i++) {
    const connection = new BatchCountingConnection(`p${i}`, 10 * MiB);
    const peer = new PeerState(connection as unknown as PeerConnection, PIECES, () => 0);
    peers.set(connection.key, peer);
    all.push({ peer, connection });
  }
  downloader.tick(); // learns the rates (nobody is interested yet: no requests)
  for (const { peer } of all) downloader.onBitfield(peer, Bitfield.full(PIECES));
  const batches = () => all.map(({ connection }) => connection.batches.join('+') || '-').join(' ');
  // Four peers unchoke us first: a 16-block slice each, in one batch (not a sliver of 6 or 8).
  for (const { peer } of all.slice(0, 4)) downloader.onUnchoke(peer);
  assert.equal(batches(), '16 16 16 16 - - - - - - - -');

  const { peer, connection } = all[0]!;
  const answer = (count: number) => {
    for (const request of connection.requests.splice(0, count)) {
      const at = request.index * PIECE + request.begin;
      downloader.onPiece(peer, request.index, request.begin, data.subarray(at, at + request.length));
    }
  };
  // One budget slot is still free, but the first peer is not refilled while part of its slice
  // is in flight.
  answer(12);
  assert.equal(batches(), '16 16 16 16 - - - - - - - -', 'no refill while part of the slice is in flight');
  // The others unchoke us: the free slot goes to one of them whole; the rest wait.
  for (const { peer: other } of all.slice(4)) downloader.onUnchoke(other);
  assert.equal(batches(), '16 16 16 16 16 - - - - - - -');
  // The first slice was one whole piece: it verifies, and its slot goes to the peer that waited
  // longest, as one batch of 16.
  answer(4);
  await settle(() => all[5]!.connection.batches.length > 0);
  assert.equal(batches(), '16 16 16 16 16 16 - - - - - -');
});

test('a swarm the budget can serve keeps the rate-based pipelines', () => {
  // 64 budget blocks for 3 seeds: 21 each by rate, more than a 16-block slice.
  const { peers, downloader } = downloaderHarness(PIECES, PIECE, {
    maxPartialPieces: 4,
    downloader: { now: () => 0 },
  });
  const connections: BatchCountingConnection[] = [];
  for (let i = 0; i < 3; i++) {
    const connection = new BatchCountingConnection(`p${i}`, 10 * MiB);
    peers.set(connection.key, new PeerState(connection as unknown as PeerConnection, PIECES, () => 0));
    connections.push(connection);
  }
  downloader.tick();
  for (const peer of peers.values()) downloader.onBitfield(peer, Bitfield.full(PIECES));
  for (const peer of peers.values()) downloader.onUnchoke(peer);
  assert.deepEqual(
    connections.map((c) => c.requests.length),
    [21, 21, 21],
  );
});
