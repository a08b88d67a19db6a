/**
 * The Downloader with file selection: interest follows the wanted pieces (a peer with only
 * unwanted pieces is not interesting), a selection change recounts it, and completion is
 * over the wanted pieces: wanting nothing more completes, wanting more reopens.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { bits } from '../policy/picker-helpers.js';
import { downloaderHarness, FakeDownloaderConnection } from './fixtures.js';

const PIECE = 16_384;

test('interest and completion follow the selection', () => {
  const { picker, peers, downloader } = downloaderHarness(4, PIECE);
  picker.setPiecePriorities(Uint8Array.from([2, 2, 0, 0]));
  downloader.selectionChanged();
  const add = (key: string, has: string) => {
    const connection = new FakeDownloaderConnection(key);
    const peer = new PeerState(connection as unknown as PeerConnection, 4, () => 0);
    peers.set(key, peer);
    downloader.onBitfield(peer, bits(has));
    return connection;
  };
  const onlyUnwanted = add('a', '0011');
  const seed = add('b', '1111');
  assert.equal(onlyUnwanted.amInterested, false, 'has nothing we want');
  assert.equal(seed.amInterested, true);

  picker.setPiecePriorities(Uint8Array.from([2, 2, 1, 0]));
  downloader.selectionChanged();
  assert.equal(onlyUnwanted.amInterested, true, 'has piece 2, wanted now');

  let completes = 0;
  downloader.on('complete', () => completes++);
  picker.setPiecePriorities(Uint8Array.from([0, 0, 0, 0]));
  assert.equal(downloader.selectionChanged(), true, 'nothing left to want: complete');
  assert.equal(completes, 1);
  assert.equal(downloader.finished, true);
  assert.equal(seed.amInterested, false);
  assert.equal(onlyUnwanted.amInterested, false);

  picker.setPiecePriorities(Uint8Array.from([0, 0, 0, 3]));
  assert.equal(downloader.selectionChanged(), false);
  assert.equal(downloader.finished, false, 'more wanted: not finished');
  assert.equal(seed.amInterested, true);
  assert.equal(onlyUnwanted.amInterested, true);
});
