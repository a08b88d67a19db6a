/**
 * BEP 6, the fast extension, without sockets: the Uploader's rejects and allowed-fast serving,
 * the Downloader's requests that survive a fast peer's choke and are released by its rejects,
 * allowed-fast pieces requested while choked, and FastExtension (have-all / have-none, the
 * allowed-fast offer, rejects for requests never made, fast messages from a peer that did not
 * negotiate the extension). Peers are FakeDownloaderConnections that record what is sent.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as flush } from 'node:timers/promises';
import { Bitfield } from '../../../src/bitfield.js';
import type { TorrentMetadata } from '../../../src/metainfo/types.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import type { Downloader } from '../../../src/session/downloader.js';
import {
  FastExtension,
  MAX_ALLOWED_FAST_IN,
  UNREQUESTED_REJECT_ALLOWANCE,
} from '../../../src/session/fast-extension.js';
import { PeerState } from '../../../src/session/peer-state.js';
import { Uploader } from '../../../src/session/uploader.js';
import type { Message } from '../../../src/wire/types.js';
import { downloaderHarness, FakeDownloaderConnection, metaFor, type RecordedRequest } from './fixtures.js';

const BLOCK = 16_384;
const PIECE = 4 * BLOCK;

function peerOn(connection: FakeDownloaderConnection, pieceCount: number, fast: boolean): PeerState {
  const peer = new PeerState(connection as unknown as PeerConnection, pieceCount, () => 0);
  peer.fast = fast;
  return peer;
}

const ofType = (sent: readonly Message[], type: Message['type']) => sent.filter((m) => m.type === type);
const rejects = (c: FakeDownloaderConnection) =>
  ofType(c.sent, 'reject').map((m) => {
    const r = m as Extract<Message, { type: 'reject' }>;
    return `${r.index}:${r.begin}`;
  });

describe('Uploader with the fast extension (BEP 6)', () => {
  const pieceCount = 8;
  const meta = metaFor(Buffer.alloc(pieceCount * PIECE), PIECE);
  const reader = {
    lease: async (_i: number, _b: number, length: number) => ({ block: Buffer.alloc(length), release() {} }),
  };

  function setup(options: { fast: boolean; have?: number[]; maxQueued?: number }) {
    const have = new Bitfield(pieceCount);
    for (const index of options.have ?? [0, 1, 2, 3, 4, 5, 6, 7]) have.set(index);
    const uploader = new Uploader(meta, reader, () => have, { maxQueuedRequests: options.maxQueued ?? 2000 });
    const connection = new FakeDownloaderConnection('peer');
    const peer = peerOn(connection, pieceCount, options.fast);
    return { uploader, connection, peer };
  }

  const table: {
    name: string;
    fast: boolean;
    choked: boolean;
    have?: number[];
    allowedFast?: number[];
    maxQueued?: number;
    queuedBefore?: number;
    index: number;
    verdict: string;
  }[] = [
    { name: 'choked, fast peer: rejected', fast: true, choked: true, index: 1, verdict: 'rejected' },
    {
      name: 'choked, BEP 3 peer: ignored (no reject in BEP 3)',
      fast: false,
      choked: true,
      index: 1,
      verdict: 'ignored',
    },
    {
      name: 'choked but allowed fast: queued',
      fast: true,
      choked: true,
      allowedFast: [1],
      index: 1,
      verdict: 'queued',
    },
    {
      name: 'a piece we lack, fast peer: rejected',
      fast: true,
      choked: false,
      have: [0],
      index: 1,
      verdict: 'rejected',
    },
    {
      name: 'a piece we lack, BEP 3 peer: ignored',
      fast: false,
      choked: false,
      have: [0],
      index: 1,
      verdict: 'ignored',
    },
    {
      name: 'an allowed-fast piece we lack: rejected',
      fast: true,
      choked: true,
      have: [0],
      allowedFast: [1],
      index: 1,
      verdict: 'rejected',
    },
    {
      name: 'over the queue limit, fast peer: rejected',
      fast: true,
      choked: false,
      maxQueued: 1,
      queuedBefore: 1,
      index: 2,
      verdict: 'rejected',
    },
    {
      name: 'out of range: a violation, not a reject',
      fast: true,
      choked: false,
      index: pieceCount,
      verdict: 'violation',
    },
    { name: 'unchoked, a piece we have: queued', fast: true, choked: false, index: 1, verdict: 'queued' },
  ];
  for (const row of table) {
    test(row.name, () => {
      const { uploader, connection, peer } = setup(row);
      connection.amChoking = row.choked;
      for (const index of row.allowedFast ?? []) peer.allowedFastOut.add(index);
      // A queue already at its limit (the entries wait: serving is asynchronous).
      for (let i = 0; i < (row.queuedBefore ?? 0); i++)
        peer.uploadQueue.push({ index: 0, begin: 0, length: BLOCK });
      peer.uploading = row.queuedBefore !== undefined; // keep the pre-filled queue from being served
      const verdict = uploader.onRequest(peer, row.index, BLOCK, BLOCK);
      assert.equal(verdict, row.verdict);
      assert.deepEqual(rejects(connection), verdict === 'rejected' ? [`${row.index}:${BLOCK}`] : []);
    });
  }

  test('no rejects pile up for a peer that does not read: past 4 MiB unsent, refusals are silent', () => {
    const { uploader, connection, peer } = setup({ fast: true });
    connection.writableLength = 4 * 1024 * 1024 + 1;
    assert.equal(uploader.onRequest(peer, 1, 0, BLOCK), 'ignored');
    assert.deepEqual(rejects(connection), []);
    connection.writableLength = 4 * 1024 * 1024;
    assert.equal(uploader.onRequest(peer, 1, 0, BLOCK), 'rejected');
  });

  test('an allowed-fast piece is served while choked', async () => {
    const { uploader, connection, peer } = setup({ fast: true });
    peer.allowedFastOut.add(3);
    assert.equal(uploader.onRequest(peer, 3, 0, BLOCK), 'queued');
    await flush();
    assert.deepEqual(connection.pieces, [{ index: 3, begin: 0, length: BLOCK }]);
  });

  test('choking a fast peer rejects its queued requests but the allowed-fast ones, which are still served', async () => {
    const { uploader, connection, peer } = setup({ fast: true });
    connection.amChoking = false;
    peer.allowedFastOut.add(2);
    peer.uploading = true; // hold the queue: serving starts below
    for (const index of [1, 2, 3]) uploader.onRequest(peer, index, 0, BLOCK);
    connection.send({ type: 'choke' });
    uploader.onChoke(peer);
    assert.deepEqual(rejects(connection), ['1:0', '3:0']);
    assert.deepEqual(peer.uploadQueue, [{ index: 2, begin: 0, length: BLOCK }]);
    peer.uploading = false;
    uploader.onRequest(peer, 2, BLOCK, BLOCK);
    await flush();
    assert.deepEqual(
      connection.pieces.map((r) => `${r.index}:${r.begin}`),
      ['2:0', `2:${BLOCK}`],
    );
  });

  test('choking a BEP 3 peer drops its queue silently', () => {
    const { uploader, connection, peer } = setup({ fast: false });
    connection.amChoking = false;
    peer.uploading = true;
    for (const index of [1, 2]) uploader.onRequest(peer, index, 0, BLOCK);
    connection.send({ type: 'choke' });
    uploader.onChoke(peer);
    assert.equal(peer.uploadQueue.length, 0);
    assert.deepEqual(rejects(connection), []);
  });

  test('a request still queued when the peer cancels it is answered with a reject (fast peers only)', () => {
    for (const fast of [true, false]) {
      const { uploader, connection, peer } = setup({ fast });
      connection.amChoking = false;
      peer.uploading = true;
      uploader.onRequest(peer, 4, 0, BLOCK);
      uploader.onCancel(peer, 4, 0, BLOCK);
      assert.equal(peer.uploadQueue.length, 0);
      assert.deepEqual(rejects(connection), fast ? ['4:0'] : []);
    }
  });

  test('choked while the block was being read: a fast peer gets a reject instead of the block', async () => {
    const { uploader, connection, peer } = setup({ fast: true });
    connection.amChoking = false;
    assert.equal(uploader.onRequest(peer, 5, 0, BLOCK), 'queued');
    // The lease is awaited: choke before it resolves (onChoke no longer sees the request).
    connection.send({ type: 'choke' });
    uploader.onChoke(peer);
    await flush();
    assert.deepEqual(connection.pieces, []);
    assert.deepEqual(rejects(connection), ['5:0']);
  });
});

describe('Downloader with the fast extension (BEP 6)', () => {
  function setup(pieceCount: number) {
    const harness = downloaderHarness(pieceCount, PIECE);
    const addSeed = (key: string, fast: boolean) => {
      const connection = new FakeDownloaderConnection(key);
      connection.peerChoking = true;
      const peer = peerOn(connection, pieceCount, fast);
      harness.peers.set(key, peer);
      harness.downloader.onBitfield(peer, Bitfield.full(pieceCount));
      return { peer, connection };
    };
    return { ...harness, addSeed };
  }
  const keys = (requests: readonly RecordedRequest[]) => requests.map((r) => `${r.index}:${r.begin}`);

  test("a fast peer's choke keeps our requests; its rejects release them, once each", () => {
    const { downloader, picker, addSeed } = setup(4);
    const a = addSeed('a', true);
    a.connection.peerChoking = false;
    downloader.onUnchoke(a.peer);
    const asked = a.connection.requests.splice(0);
    assert.equal(asked.length, 8);
    a.connection.peerChoking = true;
    downloader.onChoke(a.peer);
    assert.equal(a.peer.requests.size, 8, 'the requests stand after a fast choke');

    // Another peer finds nothing unrequested in the started pieces; a reject frees one block for it.
    const b = addSeed('b', true);
    const first = asked[0]!;
    downloader.onReject(a.peer, first.index, first.begin);
    downloader.onReject(a.peer, first.index, first.begin); // a second reject for the same block changes nothing
    assert.equal(a.peer.requests.size, 7);
    b.connection.peerChoking = false;
    downloader.onUnchoke(b.peer);
    assert.ok(
      keys(b.connection.requests).includes(`${first.index}:${first.begin}`),
      'the rejected block went to b',
    );
    assert.ok(picker.missingPieceCount > 0);
  });

  test("a BEP 3 peer's choke releases every request at once", () => {
    const { downloader, addSeed } = setup(4);
    const a = addSeed('a', false);
    a.connection.peerChoking = false;
    downloader.onUnchoke(a.peer);
    assert.equal(a.peer.requests.size, 8);
    a.connection.peerChoking = true;
    downloader.onChoke(a.peer);
    assert.equal(a.peer.requests.size, 0);
  });

  test('while choked, a fast peer is asked only for its allowed-fast pieces', () => {
    const { downloader, addSeed } = setup(6);
    const a = addSeed('a', true);
    downloader.fill(a.peer);
    assert.equal(a.connection.requests.length, 0, 'choked, nothing allowed: no requests');
    a.peer.allowedFastIn.add(4);
    downloader.fill(a.peer);
    assert.deepEqual(keys(a.connection.requests), ['4:0', `4:${BLOCK}`, `4:${2 * BLOCK}`, `4:${3 * BLOCK}`]);
  });

  test('allowed-fast pieces mean nothing from a peer without the extension', () => {
    const { downloader, addSeed } = setup(6);
    const a = addSeed('a', false);
    a.peer.allowedFastIn.add(4);
    downloader.fill(a.peer);
    assert.equal(a.connection.requests.length, 0);
  });
});

describe('FastExtension (BEP 6 messages)', () => {
  const pieceCount = 1313;
  const meta = {
    pieceCount,
    pieceLength: PIECE,
    lastPieceLength: PIECE,
    infoHash: Buffer.alloc(20, 0xaa),
  } as TorrentMetadata;

  function setup(have: Bitfield) {
    const calls: { reject: string[]; fill: number; bitfields: number[] } = {
      reject: [],
      fill: 0,
      bitfields: [],
    };
    const downloader = {
      have,
      onBitfield: (peer: PeerState, bits: Bitfield) => {
        peer.has = bits;
        calls.bitfields.push(bits.count);
      },
      onReject: (_peer: PeerState, index: number, begin: number) => calls.reject.push(`${index}:${begin}`),
      fill: () => calls.fill++,
    } as unknown as Downloader;
    const strikes: string[] = [];
    const fast = new FastExtension(meta, downloader, (peer, reason, severe) => {
      strikes.push(reason);
      if (severe) peer.connection.close(`protocol violation: ${reason}`);
    });
    const peerAt = (host: string, isFast: boolean) => {
      const connection = new FakeDownloaderConnection(`${host}:6881`, 0, host);
      return { connection, peer: peerOn(connection, pieceCount, isFast) };
    };
    return { fast, calls, strikes, peerAt };
  }

  test('our availability: have-all / have-none to fast peers, the bitfield (or nothing) to BEP 3 peers', () => {
    const rows: { have: Bitfield; fast: boolean; expected: string[] }[] = [
      { have: Bitfield.full(pieceCount), fast: true, expected: ['have-all'] },
      { have: Bitfield.full(pieceCount), fast: false, expected: ['bitfield'] },
      { have: new Bitfield(pieceCount), fast: true, expected: ['have-none'] },
      { have: new Bitfield(pieceCount), fast: false, expected: [] },
    ];
    const some = new Bitfield(pieceCount);
    some.set(7);
    rows.push({ have: some, fast: true, expected: ['bitfield'] });
    for (const row of rows) {
      const { fast, peerAt } = setup(row.have);
      const { connection, peer } = peerAt('127.0.0.5', row.fast);
      fast.sendAvailability(peer);
      assert.deepEqual(
        connection.sent.map((m) => m.type),
        row.expected,
        `have ${row.have.count}, fast ${row.fast}`,
      );
    }
  });

  test("a newcomer is offered its canonical allowed-fast set (the BEP's vector for 80.4.4.200), once", () => {
    const { fast, peerAt } = setup(Bitfield.full(pieceCount));
    const { connection, peer } = peerAt('80.4.4.200', true);
    fast.onMessage(peer, { type: 'have-none' });
    const offered = ofType(connection.sent, 'allowed-fast').map((m) => (m as { index: number }).index);
    assert.equal(offered.length, 10);
    assert.deepEqual(offered.slice(0, 9), [1059, 431, 808, 1217, 287, 376, 1188, 353, 508]);
    assert.deepEqual([...peer.allowedFastOut], offered);
    fast.offerAllowedFast(peer);
    assert.equal(ofType(connection.sent, 'allowed-fast').length, 10, 'offered once per connection');
  });

  test('no offer to a peer with many pieces, none of a piece it has or we lack', () => {
    const mine = Bitfield.full(pieceCount);
    mine.clear(808);
    const { fast, peerAt } = setup(mine);
    const rich = peerAt('80.4.4.200', true);
    fast.onMessage(rich.peer, { type: 'have-all' });
    assert.equal(ofType(rich.connection.sent, 'allowed-fast').length, 0);

    const poor = peerAt('80.4.4.200', true);
    poor.peer.has.set(431);
    fast.offerAllowedFast(poor.peer);
    const offered = ofType(poor.connection.sent, 'allowed-fast').map((m) => (m as { index: number }).index);
    assert.ok(!offered.includes(431), 'it has 431');
    assert.ok(!offered.includes(808), 'we lack 808');
    assert.ok(offered.includes(1059));
  });

  for (const message of [
    { type: 'have-all' },
    { type: 'have-none' },
    { type: 'reject', index: 0, begin: 0, length: BLOCK },
    { type: 'allowed-fast', index: 0 },
    { type: 'suggest', index: 0 },
  ] as const) {
    test(`${message.type} from a peer that did not set the fast bit drops it`, () => {
      const { fast, peerAt, calls } = setup(new Bitfield(pieceCount));
      const { connection, peer } = peerAt('127.0.0.9', false);
      fast.onMessage(peer, message);
      assert.equal(connection.closed, true);
      assert.match(connection.closeReason ?? '', new RegExp(`${message.type} without the fast extension`));
      assert.deepEqual(calls.bitfields, [], 'nothing of it was acted on');
    });
  }

  test('have-all and have-none set the peer availability', () => {
    const { fast, peerAt, calls } = setup(new Bitfield(pieceCount));
    const { peer } = peerAt('127.0.0.9', true);
    fast.onMessage(peer, { type: 'have-all' });
    fast.onMessage(peer, { type: 'have-none' });
    assert.deepEqual(calls.bitfields, [pieceCount, 0]);
  });

  test('a reject for an outstanding request releases it; for a request never made it counts, and a flood drops the peer', () => {
    const { fast, peerAt, calls, strikes } = setup(new Bitfield(pieceCount));
    const { connection, peer } = peerAt('127.0.0.9', true);
    // Outstanding: 3:16384 (BlockKeys: piece × 4 blocks + block).
    peer.requests.set(3 * 4 + 1, 0);
    fast.onMessage(peer, { type: 'reject', index: 3, begin: BLOCK, length: BLOCK });
    assert.deepEqual(calls.reject, ['3:16384']);
    // A wrong length for an outstanding request is not a match.
    fast.onMessage(peer, { type: 'reject', index: 3, begin: BLOCK, length: 100 });
    assert.deepEqual(calls.reject, ['3:16384']);
    // Our cancels excuse as many rejects more.
    connection.cancelsSent = 5;
    for (let i = 1; i < UNREQUESTED_REJECT_ALLOWANCE + 5; i++)
      fast.onMessage(peer, { type: 'reject', index: 9, begin: 0, length: BLOCK });
    assert.equal(
      connection.closed,
      false,
      `${UNREQUESTED_REJECT_ALLOWANCE + 5} unrequested rejects are tolerated`,
    );
    fast.onMessage(peer, { type: 'reject', index: 9, begin: 0, length: BLOCK });
    assert.equal(connection.closed, true);
    assert.match(strikes.at(-1) ?? '', /rejects for requests we never made/);
  });

  test('allowed-fast: out of range drops the peer; the set is bounded; a choked peer is refilled', () => {
    const { fast, peerAt, calls } = setup(new Bitfield(pieceCount));
    const { connection, peer } = peerAt('127.0.0.9', true);
    connection.peerChoking = true;
    for (let i = 0; i < MAX_ALLOWED_FAST_IN + 50; i++)
      fast.onMessage(peer, { type: 'allowed-fast', index: i });
    assert.equal(peer.allowedFastIn.size, MAX_ALLOWED_FAST_IN);
    assert.ok(calls.fill > 0);
    assert.equal(connection.closed, false);
    fast.onMessage(peer, { type: 'allowed-fast', index: pieceCount });
    assert.equal(connection.closed, true);
  });

  test('suggest is accepted (not acted on); out of range drops the peer', () => {
    const { fast, peerAt } = setup(new Bitfield(pieceCount));
    const { connection, peer } = peerAt('127.0.0.9', true);
    fast.onMessage(peer, { type: 'suggest', index: 5 });
    assert.equal(connection.closed, false);
    fast.onMessage(peer, { type: 'suggest', index: pieceCount + 1 });
    assert.equal(connection.closed, true);
  });
});
