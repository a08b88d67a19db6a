import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { downloaderHarness, FakeDownloaderConnection } from './fixtures.js';

const BLOCK = 16_384;
const PIECE = 16 * BLOCK;
const MiB = 1024 * 1024;

test('a slow seeder cannot hold the partial-piece budget: requests in flight follow each peer’s share of the rate', () => {
  const pieceCount = 256;
  // 8 partial pieces of 16 blocks: 128 blocks may be in flight in all.
  const { peers, downloader } = downloaderHarness(pieceCount, PIECE, {
    maxPartialPieces: 8,
    downloader: { now: () => 0 },
  });
  // Transmission on loopback (~10 MiB/s) and qBittorrent (~150 MiB/s), both seeds.
  const slow = new PeerState(
    new FakeDownloaderConnection('slow', 10 * MiB) as unknown as PeerConnection,
    pieceCount,
  );
  const fast = new PeerState(
    new FakeDownloaderConnection('fast', 150 * MiB) as unknown as PeerConnection,
    pieceCount,
  );
  peers.set('slow', slow);
  peers.set('fast', fast);
  downloader.tick(); // learns the rates (nobody is interested yet: no requests)
  for (const peer of [slow, fast]) downloader.onBitfield(peer, Bitfield.full(pieceCount));
  // The slow peer unchokes us first, as Transmission's 10 s choke round may.
  downloader.onUnchoke(slow);
  downloader.onUnchoke(fast);
  const inFlight = (peer: PeerState) =>
    (peer.connection as unknown as FakeDownloaderConnection).requests.length;
  // 1.5 s of 10 MiB/s is 960 blocks: before, the slow peer took all 128 and the fast one got none.
  assert.ok(inFlight(slow) <= 16, `slow peer holds ${inFlight(slow)} of 128 budget blocks`);
  assert.ok(inFlight(fast) >= 96, `fast peer holds ${inFlight(fast)} of 128 budget blocks`);
});
