import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { BlockKeys, PeerState } from '../../../src/session/peer-state.js';
import { downloaderHarness, FakeDownloaderConnection, type RecordedRequest } from './fixtures.js';

const BLOCK = 16_384;
const PIECE = 4 * BLOCK;

/**
 * A downloader with two seeds, `honest` and `liar`; `answer` decides what each sends for a
 * request (undefined: no answer). Requests are answered in rounds until nothing moves.
 */
async function swarm(
  pieceCount: number,
  answer: (peer: string, request: RecordedRequest, truth: Buffer) => Buffer | undefined,
) {
  const { data, meta, peers, downloader } = downloaderHarness(pieceCount, PIECE);
  const keys = new BlockKeys(meta);
  const banned: { key: string; reason: string }[] = [];
  downloader.on('peer-banned', (key, reason) => {
    banned.push({ key, reason });
    const peer = peers.get(key);
    if (peer) {
      downloader.peerGone(peer);
      peers.delete(key);
    }
  });
  for (const key of ['honest', 'liar']) {
    const peer = new PeerState(new FakeDownloaderConnection(key) as unknown as PeerConnection, pieceCount);
    peers.set(key, peer);
    downloader.onBitfield(peer, Bitfield.full(pieceCount));
    downloader.onUnchoke(peer);
  }
  for (let round = 0; round < 200 && !downloader.finished; round++) {
    let moved = false;
    // The liar answers first: in endgame its garbage wins every race for a block both were asked.
    for (const peer of [...peers.values()].reverse()) {
      const connection = peer.connection as unknown as FakeDownloaderConnection;
      for (const request of connection.requests.splice(0)) {
        const start = request.index * PIECE + request.begin;
        const block = answer(peer.key, request, data.subarray(start, start + request.length));
        if (block === undefined) continue;
        // As the peer handler does: only an answer to a request still outstanding reaches onPiece.
        if (peer.requests.has(keys.of(request.index, request.begin))) {
          downloader.onPiece(peer, request.index, request.begin, block);
        } else {
          downloader.onUnrequestedBlock(block.length);
        }
        moved = true;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    if (
      !moved &&
      [...peers.values()].every(
        (peer) => (peer.connection as unknown as FakeDownloaderConnection).requests.length === 0,
      )
    )
      break;
  }
  return { downloader, banned };
}

describe('Downloader: who is blamed for pieces that fail their hash check', () => {
  test('a peer lying in shared pieces is banned by trust points; the honest one, which also fills verified pieces, never', async () => {
    // It never answers the first half (so it never fills a piece alone) and its garbage is the
    // same every time (so it never contradicts itself): only trust points can tell.
    const { downloader, banned } = await swarm(12, (peer, request, truth) => {
      if (peer !== 'liar') return truth;
      return request.begin >= PIECE / 2 ? Buffer.alloc(request.length, 0xaa) : undefined;
    });
    assert.equal(banned[0]?.reason, 'contributed to far more failed pieces than verified ones');
    assert.ok(
      banned.some((ban) => ban.key === 'liar'),
      `the liar is banned (bans: ${JSON.stringify(banned)})`,
    );
    assert.ok(!banned.some((ban) => ban.key === 'honest'), 'the honest peer is never banned');
    assert.equal(downloader.finished, true, 'the download completes from the honest peer');
  });

  test('a peer that alone sends bad pieces is banned after 3', async () => {
    const { banned } = await swarm(12, (peer, request, truth) =>
      peer === 'liar' ? Buffer.alloc(request.length, 0xaa) : truth,
    );
    assert.deepEqual(
      banned.map((ban) => ban.key),
      ['liar'],
    );
    assert.match(banned[0]!.reason, /3 pieces that failed/);
  });
});
