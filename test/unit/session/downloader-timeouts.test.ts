/**
 * The Downloader's clocks: a request unanswered for 30 s (10 s in endgame) is
 * cancelled and goes to another peer; a peer that sends nothing for 60 s
 * while we wait is snubbed, which shrinks its pipeline and costs it its
 * unchoke. Time is a fake clock the test moves: nothing here waits.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bitfield } from '../../../src/bitfield.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { Choker } from '../../../src/policy/choker.js';
import type { DownloaderOptions } from '../../../src/session/downloader.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { downloaderHarness, FakeDownloaderConnection, type RecordedRequest } from './fixtures.js';

const BLOCK = 16_384;
const PIECE = 4 * BLOCK;

const id = (r: RecordedRequest) => `${r.index}:${r.begin}`;

function setup(pieceCount: number, options: DownloaderOptions = {}) {
  const clock = new FakeClock();
  const { data, picker, peers, downloader } = downloaderHarness(pieceCount, PIECE, {
    downloader: { now: clock.now, ...options },
  });
  /** A connected seed, choking us until `unchoke` is called. */
  const addSeed = (key: string) => {
    const connection = new FakeDownloaderConnection(key);
    connection.peerChoking = true;
    const peer = new PeerState(connection as unknown as PeerConnection, pieceCount, clock.now);
    peers.set(key, peer);
    downloader.onBitfield(peer, Bitfield.full(pieceCount));
    assert.equal(connection.amInterested, true);
    const unchoke = () => {
      connection.peerChoking = false;
      downloader.onUnchoke(peer);
    };
    return { peer, connection, unchoke };
  };
  const blockOf = (r: RecordedRequest) =>
    data.subarray(r.index * PIECE + r.begin, r.index * PIECE + r.begin + r.length);
  return { clock, downloader, picker, addSeed, blockOf };
}

describe('Downloader: request timeout', () => {
  test('a request unanswered for 30 s is cancelled and re-requested from another peer', () => {
    const { clock, downloader, addSeed } = setup(10);
    const slow = addSeed('slow');
    const fast = addSeed('fast');
    slow.unchoke();
    const asked = slow.connection.requests.splice(0);
    assert.equal(asked.length, 8, 'a new peer gets a pipeline of 8');

    clock.advance(30_000);
    downloader.tick();
    assert.equal(slow.connection.cancels.length, 0, 'at 30 s exactly the requests still stand');
    assert.equal(slow.peer.snubbed, false);

    clock.advance(1);
    downloader.tick();
    assert.deepEqual(
      slow.connection.cancels.map(id).sort(),
      asked.map(id).sort(),
      'each timed-out request cancelled',
    );
    assert.equal(slow.peer.snubbed, true, 'a peer whose requests time out is snubbed');
    const retried = slow.connection.requests.splice(0);
    assert.equal(retried.length, 1, 'a snubbed peer is asked one block at a time');
    assert.equal(slow.peer.requests.size, 1);

    fast.unchoke();
    const fastAsked = new Set(fast.connection.requests.map(id));
    const stillOwed = asked.map(id).filter((block) => !retried.map(id).includes(block));
    assert.equal(stillOwed.length, 7);
    for (const block of stillOwed)
      assert.ok(fastAsked.has(block), `block ${block} re-requested from the other peer`);
  });

  test('in endgame a request times out after 10 s', () => {
    const { clock, downloader, picker, addSeed } = setup(1);
    const first = addSeed('first');
    const second = addSeed('second');
    first.unchoke();
    assert.equal(first.connection.requests.length, 4, 'every block of the one piece asked of the first peer');
    assert.equal(picker.inEndgame, true);
    second.unchoke();
    assert.equal(second.connection.requests.length, 4, 'endgame: the same blocks asked of the second');
    const asked = first.connection.requests.map(id).sort();

    clock.advance(10_000);
    downloader.tick();
    assert.equal(
      first.connection.cancels.length + second.connection.cancels.length,
      0,
      'not at 10 s exactly',
    );
    clock.advance(1);
    downloader.tick();
    assert.deepEqual(first.connection.cancels.map(id).sort(), asked, 'cancelled after 10 s, not 30 s');
    assert.deepEqual(second.connection.cancels.map(id).sort(), asked);
    assert.equal(first.peer.snubbed && second.peer.snubbed, true);
  });

  test('a request answered in time is not cancelled', () => {
    const { clock, downloader, addSeed, blockOf } = setup(10);
    const peer = addSeed('peer');
    peer.unchoke();
    for (let second = 0; second < 90; second++) {
      clock.advance(1000);
      for (const request of peer.connection.requests.splice(0, 2))
        downloader.onPiece(peer.peer, request.index, request.begin, blockOf(request));
      downloader.tick();
    }
    assert.equal(peer.connection.cancels.length, 0);
    assert.equal(peer.peer.snubbed, false);
  });
});

describe('Downloader: snub', () => {
  // Requests that never time out here, so only the snub rule is at work.
  const options = { requestTimeoutMs: 1_000_000 };

  test('a peer that sends no block for 60 s while we wait is snubbed; a block un-snubs it', () => {
    const { clock, downloader, addSeed, blockOf } = setup(10, options);
    const peer = addSeed('peer');
    peer.unchoke();
    assert.equal(peer.connection.requests.length, 8);
    clock.advance(60_000);
    downloader.tick();
    assert.equal(peer.peer.snubbed, false, 'not at 60 s exactly');
    clock.advance(1);
    downloader.tick();
    assert.equal(peer.peer.snubbed, true, 'snubbed after 60 s without a block');
    const [request] = peer.connection.requests;
    downloader.onPiece(peer.peer, request!.index, request!.begin, blockOf(request!));
    assert.equal(peer.peer.snubbed, false, 'a block un-snubs it');
  });

  test('the snub clock starts when we start asking, not when the peer connected', () => {
    const { clock, downloader, addSeed } = setup(10, options);
    const peer = addSeed('peer');
    clock.advance(100_000); // connected, choking us: nothing asked, nothing owed
    downloader.tick();
    peer.unchoke();
    clock.advance(1000);
    downloader.tick();
    assert.equal(peer.peer.snubbed, false, 'one second after our first request');
    clock.advance(59_001);
    downloader.tick();
    assert.equal(peer.peer.snubbed, true, '60 s after our first request');
  });

  test('a snubbed peer is not rewarded by the choker while we download', () => {
    // Enough blocks that the giving peer, one block a second, is still busy after 60 s.
    const { clock, downloader, addSeed, blockOf } = setup(40, options);
    const choker = new Choker({ slots: 1, random: () => 0.99, now: clock.now });
    const silent = addSeed('silent');
    const giving = addSeed('giving');
    silent.unchoke();
    giving.unchoke();
    const candidates = () =>
      [silent, giving].map(({ peer }) => ({
        key: peer.key,
        interested: true,
        // The silent peer sent more earlier: without the snub it would keep the slot.
        downloadRate: peer.key === 'silent' ? 100_000 : 10_000,
        uploadRate: 0,
        snubbed: peer.snubbed,
        connectedAt: peer.connectedAt,
      }));
    for (let second = 0; second < 61; second++) {
      clock.advance(1000);
      const request = giving.connection.requests.shift();
      if (request) downloader.onPiece(giving.peer, request.index, request.begin, blockOf(request));
      downloader.tick();
    }
    assert.equal(silent.peer.snubbed, true);
    assert.equal(giving.peer.snubbed, false);
    const decision = choker.decide(candidates(), false);
    assert.ok(decision.unchoke.has('giving'), 'the peer that gives gets the regular slot');
    assert.notEqual(decision.optimistic, 'giving');
    assert.ok(
      !decision.unchoke.has('silent') || decision.optimistic === 'silent',
      'the snubbed peer only ever by luck',
    );
  });
});
