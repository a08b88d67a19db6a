/**
 * A Lodestone leecher facing one honest Lodestone seeder and one hostile
 * peer: whatever the hostile peer does, the download finishes byte-identical,
 * the hostile peer is dropped (or its message ignored where the spec says
 * so), and the memory the leecher keeps does not grow with what the hostile
 * peer claims or sends. Magnet cases put a MetadataFetcher in the leecher's
 * place. Addresses: 127.0.1.x (seeder .1, leechers .10+, hostile peers .110+).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PeerAddress } from '../../src/address.js';
import { encode } from '../../src/bencode/index.js';
import { parseMagnet, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { MetadataFetcher } from '../../src/session/metadata-fetcher.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import {
  decodeExtensionHandshake,
  decodeMetadataMessage,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  generatePeerId,
  LOCAL_EXTENSION_IDS,
  METADATA_BLOCK_SIZE,
} from '../../src/wire/index.js';
import {
  blockSeeder,
  fullBitfield,
  garbageSeeder,
  type HostileBehaviour,
  type HostilePeer,
  type HostilePeerOptions,
  keepAliveOnlySeeder,
  rawMessage,
  retainedMemory,
  startHostilePeer,
} from '../helpers/hostile-peer.js';
import { singleFileTorrent, startLodestoneSeeder } from '../helpers/lodestone-seeder.js';

const PIECE = 64 * 1024;
/** Not a multiple of 8, so a bitfield has spare bits; the last piece is short. About 4 MiB. */
const PIECE_COUNT = 62;
const DATA_LENGTH = PIECE * (PIECE_COUNT - 1) + 12_345;
const SEEDER_HOST = '127.0.1.1';
/** Injected handshake timeout, so slowloris and silent peers are dropped in a second, not ten. */
const HANDSHAKE_TIMEOUT_MS = 1000;
/**
 * Bound on memory the process still references after one download (measured after a full GC,
 * with the leecher still open). What legitimately stays: the leecher's recycled piece buffers
 * (the assembler keeps spares up to its partial-piece budget: here the whole 4 MiB torrent) and
 * the honest seeder's read cache (it runs in this process; 4 MiB at most, filled once), so about
 * 8 MiB; measured 4.2 MiB per test, 8.2 MiB for the first. 16 MiB is far below what honouring
 * any hostile claim here would cost: a 2 GiB message, 200 unrequested 16 KiB blocks (3 MiB) kept
 * per flood on top of the rest, garbage pieces kept per failed attempt.
 */
const RETAINED_ARRAY_BUFFERS_BOUND = 16 * 1024 * 1024;
/** RSS also counts freed-but-not-returned heap and thread stacks (measured at most 19 MiB). */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;

let root: string;
let data: Buffer;
let meta: TorrentMetadata;
let seeder: Client;
let honest: PeerAddress;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-hostile-dl-'));
  data = randomBytes(DATA_LENGTH);
  meta = singleFileTorrent('d.bin', data, PIECE);
  assert.equal(meta.pieceCount, PIECE_COUNT);
  const started = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(root, 'seed'),
    host: SEEDER_HOST,
  });
  seeder = started.client;
  honest = started.address;
});

after(async () => {
  await seeder.close();
  await rm(root, { recursive: true, force: true });
});

let nextHost = 10;
function nextHosts(): { leecher: string; hostile: string } {
  const n = nextHost++;
  return { leecher: `127.0.1.${n}`, hostile: `127.0.1.${n + 100}` };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Leech {
  hostile: HostilePeer;
  session: TorrentSession;
  disconnected: { address: string; reason: string }[];
  banned: { address: string; reason: string }[];
  /** Resolves with the reason the leecher gave for dropping the hostile peer. */
  hostileDropped: Promise<string>;
  /** Waits for the download, then checks memory and the file's bytes. */
  completes(): Promise<void>;
}

/** A leecher dialing the hostile peer (and, unless told otherwise, the honest seeder). */
async function leech(
  t: TestContext,
  hostileOptions: Omit<HostilePeerOptions, 'host' | 'infoHash'>,
  options: { withHonest?: boolean } = {},
): Promise<Leech> {
  const hosts = nextHosts();
  const hostile = await startHostilePeer({ host: hosts.hostile, infoHash: meta.infoHash, ...hostileOptions });
  t.after(() => hostile.close());
  const dir = await mkdtemp(join(root, 'leech-'));
  const client = new Client({
    port: false,
    bindAddress: hosts.leecher,
    hashWorkers: 1,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
    // The hostile peers speak the plaintext wire, and each case inspects their first connection:
    // no MSE attempt first (hostile-encryption.test.ts covers hostile MSE peers).
    encryption: 'disable',
  });
  t.after(() => client.close());
  const memoryBefore = retainedMemory();
  const peers = options.withHonest === false ? [hostile.address] : [hostile.address, honest];
  const session = client.add(meta, { path: dir, useTrackers: false, peers });
  const disconnected: { address: string; reason: string }[] = [];
  const banned: { address: string; reason: string }[] = [];
  session.on('peer-disconnected', (info) => disconnected.push(info));
  session.on('peer-banned', (info) => banned.push(info));
  const hostileDropped = new Promise<string>((resolve) =>
    session.on('peer-disconnected', ({ address, reason }) => {
      if (address === hostile.key) resolve(reason);
    }),
  );
  const done = new Promise<void>((resolve, reject) => {
    session.once('done', resolve);
    session.once('error', reject);
  });
  await session.start();
  return {
    hostile,
    session,
    disconnected,
    banned,
    hostileDropped,
    async completes() {
      await within(done, 20_000, 'download');
      const memoryAfter = retainedMemory();
      const buffers = memoryAfter.arrayBuffers - memoryBefore.arrayBuffers;
      const rss = memoryAfter.rss - memoryBefore.rss;
      assert.ok(buffers < RETAINED_ARRAY_BUFFERS_BOUND, `array buffers grew by ${buffers} bytes`);
      assert.ok(rss < RSS_GROWTH_BOUND, `RSS grew by ${rss} bytes`);
      const written = await readFile(join(dir, 'd.bin'));
      assert.ok(written.equals(data), 'the downloaded file is byte-identical');
      assert.ok(
        !banned.some((b) => b.address.startsWith(`${SEEDER_HOST}:`)),
        'the honest seeder was never banned',
      );
    },
  };
}

/** Sends `bytes` right after the handshake, then behaves like a peer with nothing to offer. */
function sendsAfterHandshake(...chunks: Uint8Array[]): HostileBehaviour {
  return {
    onConnected(peer) {
      for (const chunk of chunks) peer.raw(chunk);
    },
  };
}

function honestBlock(index: number, begin: number, length: number): Uint8Array {
  const start = index * PIECE + begin;
  return data.subarray(start, start + length);
}

function extended(id: number, payload: Uint8Array): Buffer {
  return rawMessage(2 + payload.length, Buffer.concat([Buffer.from([20, id]), payload]));
}

describe('hostile peers against a downloading Lodestone: handshakes', () => {
  test('a peer answering with another info-hash is dropped', async (t) => {
    const run = await leech(t, { handshake: 'wrong-info-hash' });
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /info-hash/);
    await run.completes();
  });

  test('a peer answering with another protocol string is dropped', async (t) => {
    const run = await leech(t, { handshake: 'wrong-protocol' });
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /protocol/);
    await run.completes();
  });

  test('a handshake dribbled one byte per second (slowloris) is cut off by the handshake timeout', async (t) => {
    const run = await leech(t, { handshake: 'dribble', dribbleIntervalMs: 1000 });
    const started = Date.now();
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /handshake/);
    assert.ok(Date.now() - started < HANDSHAKE_TIMEOUT_MS + 2000, 'dropped at the handshake timeout');
    await run.completes();
  });

  test('a slow handshake: the leecher sends its bitfield before any have (BEP 3), meanwhile pieces arrive', async (t) => {
    // 68 bytes at 10 ms each: the handshake completes after the leecher verified pieces from
    // the honest seeder, which it announces with haves to every connected peer.
    const run = await leech(t, { handshake: 'dribble', dribbleIntervalMs: 10 });
    await run.completes();
    const connection = run.hostile.connections[0];
    assert.ok(connection);
    const availability = () => connection.received.filter((m) => m.type === 'have' || m.type === 'bitfield');
    for (let waited = 0; availability().length === 0 && waited < 3000; waited += 50) await sleep(50);
    assert.equal(availability()[0]?.type, 'bitfield', 'the first availability message is the bitfield');
    assert.ok(!run.disconnected.some((d) => d.address === run.hostile.key));
  });

  test('a peer that accepts the connection and sends nothing is dropped', async (t) => {
    const run = await leech(t, { handshake: 'silent' });
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /handshake/);
    await run.completes();
  });
});

describe('hostile peers against a downloading Lodestone: malformed messages', () => {
  test('a length prefix of 2 GiB drops the peer before anything is buffered for it', async (t) => {
    const run = await leech(t, sendsAfterHandshake(rawMessage(2 ** 31, Buffer.from([7])), randomBytes(4096)));
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /length/);
    await run.completes();
  });

  test('a have with length 9 (longer than its type allows) drops the peer', async (t) => {
    const run = await leech(t, sendsAfterHandshake(rawMessage(9, Buffer.from([4, 0, 0, 0, 1, 0, 0, 0, 0]))));
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /have/);
    await run.completes();
  });

  test('a bitfield of the wrong length drops the peer', async (t) => {
    const bits = new Uint8Array(Math.ceil(PIECE_COUNT / 8) + 3).fill(0xff);
    const run = await leech(t, sendsAfterHandshake(rawMessage(1 + bits.length, Buffer.from([5, ...bits]))));
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /bitfield/);
    await run.completes();
  });

  test('a bitfield with spare bits set drops the peer', async (t) => {
    const bits = fullBitfield(PIECE_COUNT);
    bits[bits.length - 1]! |= 0x01; // past the last piece
    const run = await leech(t, sendsAfterHandshake(rawMessage(1 + bits.length, Buffer.from([5, ...bits]))));
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /spare bits/);
    await run.completes();
  });

  test('a bitfield after a have replaces the availability (aria2 re-sends its bitfield), not fatal', async (t) => {
    const run = await leech(t, {
      onConnected(peer) {
        peer.send({ type: 'have', index: 0 });
        peer.send({ type: 'bitfield', bits: fullBitfield(PIECE_COUNT) });
      },
    });
    const dropped = await Promise.race([run.hostileDropped.then(() => true), sleep(500).then(() => false)]);
    assert.equal(dropped, false, 'a late bitfield is accepted, as libtorrent does');
    await run.completes();
  });

  test('a have for a piece index out of range drops the peer', async (t) => {
    const run = await leech(t, {
      onConnected(peer) {
        peer.send({ type: 'have', index: PIECE_COUNT + 10 });
      },
    });
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /out of range/);
    await run.completes();
  });
});

describe('hostile peers against a downloading Lodestone: blocks', () => {
  test('a flood of blocks we never requested drops the peer', async (t) => {
    const run = await leech(t, {
      onConnected(peer) {
        peer.send({ type: 'bitfield', bits: fullBitfield(PIECE_COUNT) });
        for (let i = 0; i < 200; i++) {
          peer.send({ type: 'piece', index: i % PIECE_COUNT, begin: 0, block: randomBytes(16384) });
        }
      },
    });
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /request/);
    await run.completes();
  });

  test('a few unrequested blocks (as after a cancel in endgame) are tolerated', async (t) => {
    const seeder = blockSeeder(PIECE_COUNT, honestBlock);
    const run = await leech(
      t,
      {
        onConnected(peer) {
          for (let i = 0; i < 3; i++)
            peer.send({ type: 'piece', index: i, begin: 0, block: honestBlock(i, 0, 16384) });
          seeder.onConnected?.(peer);
        },
        onMessage: seeder.onMessage,
        // Alone: the honest seeder could finish before this peer is asked for anything.
      },
      { withHonest: false },
    );
    await run.completes();
    assert.ok(!run.disconnected.some((d) => d.address === run.hostile.key), 'the peer was kept');
    assert.ok(seeder.blocksSent() > 0, 'and it served blocks');
  });

  test('a block of the wrong length drops the peer', async (t) => {
    const run = await leech(
      t,
      blockSeeder(PIECE_COUNT, (_index, _begin, length) => randomBytes(length + 1)),
    );
    // One byte more than asked, whichever block it answers (the last piece's is shorter).
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /(\d+) bytes for a request of \d+/);
    await run.completes();
  });

  test('a block at the wrong offset drops the peer', async (t) => {
    const run = await leech(t, {
      onConnected(peer) {
        peer.send({ type: 'bitfield', bits: fullBitfield(PIECE_COUNT) });
        peer.send({ type: 'unchoke' });
      },
      onMessage(message, peer) {
        if (message.type !== 'request') return;
        peer.send({
          type: 'piece',
          index: message.index,
          begin: message.begin + 1,
          block: honestBlock(message.index, message.begin + 1, message.length - 1),
        });
      },
    });
    assert.match(await within(run.hostileDropped, 5000, 'drop'), /block|offset|request/);
    await run.completes();
  });

  test('a seeder answering every request with garbage is banned; the pieces come from the honest one', async (t) => {
    const liar = garbageSeeder(PIECE_COUNT);
    // The liar alone first, so it is asked for (and fails) several pieces whatever the timing.
    const run = await leech(t, liar, { withHonest: false });
    const banned = new Promise<string>((resolve) =>
      run.session.on('peer-banned', ({ address, reason }) => {
        if (address === run.hostile.key) resolve(reason);
      }),
    );
    assert.match(await within(banned, 10_000, 'ban'), /hash/);
    run.session.addPeer(honest, 'manual');
    await run.completes();
    assert.ok(liar.blocksSent() > 0);
  });

  test('a garbage seeder racing the honest seeder: the honest one is never banned', async (t) => {
    const liar = garbageSeeder(PIECE_COUNT);
    const failed: string[][] = [];
    const run = await leech(t, liar);
    run.session.on('piece-failed', ({ peers }) => failed.push(peers));
    await run.completes();
    assert.ok(liar.blocksSent() > 0, 'the liar was asked');
    assert.ok(
      run.banned.some((b) => b.address === run.hostile.key),
      'the liar was banned',
    );
  });

  test('a liar corrupting only some blocks (never a whole piece) is banned, the honest seeder never', async (t) => {
    // It answers only the second half of each piece, at once, and never the first half, so every
    // piece it touches is shared with the honest seeder and no single failure says who lied. In
    // endgame its garbage wins the race for its blocks every time, so a shared piece may never
    // pass (the download would never finish): trust points (it only ever contributes to failed
    // pieces, the honest seeder mostly to verified ones) or a proof end it.
    const run = await leech(t, {
      onConnected(peer) {
        peer.send({ type: 'bitfield', bits: fullBitfield(PIECE_COUNT) });
        peer.send({ type: 'unchoke' });
      },
      onMessage(message, peer) {
        if (message.type === 'request' && message.begin >= PIECE / 2) {
          peer.answer(message.index, message.begin, randomBytes(message.length));
        }
      },
    });
    const banned = new Promise<string>((resolve) =>
      run.session.on('peer-banned', ({ address, reason }) => {
        if (address === run.hostile.key) resolve(reason);
      }),
    );
    let failedPieces = 0;
    run.session.on('piece-failed', () => failedPieces++);
    // Proofs: its version of a block differs from the piece that passed, or from the version it
    // sent of the same block before (it answers with fresh random bytes each time). The bound is
    // generous for a loaded CI machine (alone it takes well under a second); the message says
    // how far it got.
    assert.match(
      await within(banned, 20_000, 'ban').catch((error: Error) => {
        throw new Error(`${error.message} (${failedPieces} pieces failed, done: ${run.session.done})`);
      }),
      /differs from the verified piece|two different versions of the same block|far more failed pieces/,
    );
    await run.completes();
  });

  test('a peer that only sends keep-alives gets a bounded number of requests; the download completes', async (t) => {
    const run = await leech(t, keepAliveOnlySeeder(PIECE_COUNT, 100));
    await run.completes();
    const connection = run.hostile.connections[0];
    assert.ok(connection, 'the leecher connected to the silent seeder');
    assert.ok(connection.maxPending > 0, 'it was asked');
    assert.ok(
      connection.maxPending <= 16,
      `at most 16 requests pending at once, saw ${connection.maxPending}`,
    );
  });
});

describe('hostile peers against a downloading Lodestone: extension messages', () => {
  test('a malformed extension handshake is not fatal', async (t) => {
    const seeder = blockSeeder(PIECE_COUNT, honestBlock);
    const run = await leech(
      t,
      {
        onConnected(peer) {
          peer.raw(extended(0, Buffer.from('d1:md11:ut_metadatai3e')));
          seeder.onConnected?.(peer);
        },
        onMessage: seeder.onMessage,
        // Alone: the honest seeder could finish before this peer is asked for anything.
      },
      { withHonest: false },
    );
    await run.completes();
    assert.ok(!run.disconnected.some((d) => d.address === run.hostile.key), 'the peer was kept');
    assert.ok(seeder.blocksSent() > 0);
  });

  test('unknown extension ids and unknown message ids are ignored', async (t) => {
    const seeder = blockSeeder(PIECE_COUNT, honestBlock);
    const run = await leech(
      t,
      {
        onConnected(peer) {
          peer.raw(extended(200, randomBytes(500)));
          peer.raw(extended(LOCAL_EXTENSION_IDS.ut_pex + 100, Buffer.from('de')));
          peer.raw(rawMessage(1000, Buffer.concat([Buffer.from([99]), randomBytes(999)])));
          seeder.onConnected?.(peer);
        },
        onMessage: seeder.onMessage,
        // Alone: the honest seeder could finish before this peer is asked for anything.
      },
      { withHonest: false },
    );
    await run.completes();
    assert.ok(!run.disconnected.some((d) => d.address === run.hostile.key), 'the peer was kept');
    assert.ok(seeder.blocksSent() > 0);
  });

  test('a ut_metadata data message over 16 KiB sent to a downloading session is ignored', async (t) => {
    const payload = Buffer.concat([
      encode({ msg_type: 1, piece: 0, total_size: meta.infoBytes.length }),
      randomBytes(METADATA_BLOCK_SIZE + 100),
    ]);
    const run = await leech(t, sendsAfterHandshake(extended(LOCAL_EXTENSION_IDS.ut_metadata, payload)));
    await run.completes();
    assert.ok(!run.disconnected.some((d) => d.address === run.hostile.key));
  });
});

/** Serves metadata over BEP 9 the way `serve` says (honest or not). */
function metadataPeer(
  metadataSize: number,
  serve: (piece: number, send: (payload: Uint8Array) => void) => void,
  extra: { before?: Uint8Array[]; handshake?: Uint8Array } = {},
): HostileBehaviour {
  const OUR_ID = 7;
  let remoteId: number | undefined;
  return {
    onConnected(peer) {
      for (const bytes of extra.before ?? []) peer.raw(bytes);
      peer.raw(
        extended(
          0,
          extra.handshake ??
            encodeExtensionHandshake({
              m: new Map([['ut_metadata', OUR_ID]]),
              v: 'Hostile 1.0',
              metadataSize,
            }),
        ),
      );
    },
    onMessage(message, peer) {
      if (message.type !== 'extended') return;
      if (message.id === 0) {
        remoteId = decodeExtensionHandshake(message.payload).m.get('ut_metadata');
        return;
      }
      if (message.id !== OUR_ID || remoteId === undefined) return;
      const request = decodeMetadataMessage(message.payload);
      const id = remoteId;
      if (request.msgType === 'request') serve(request.piece, (payload) => peer.raw(extended(id, payload)));
    },
  };
}

async function fetchPast(
  t: TestContext,
  behaviour: HostileBehaviour,
): Promise<{ fetcher: MetadataFetcher; hostile: HostilePeer; dropped: Promise<string> }> {
  const hosts = nextHosts();
  const hostile = await startHostilePeer({ host: hosts.hostile, infoHash: meta.infoHash, ...behaviour });
  t.after(() => hostile.close());
  const link = parseMagnet(`magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=${hostile.key}`);
  const fetcher = new MetadataFetcher({
    link,
    peerId: generatePeerId(),
    port: 0,
    bindAddress: hosts.leecher,
    encryption: 'disable', // plaintext straight away, as the Client above: the hostile peer speaks no MSE
  });
  const dropped = new Promise<string>((resolve) =>
    fetcher.on('peer-disconnected', ({ address, reason }) => {
      if (address === hostile.key) resolve(reason);
    }),
  );
  return { fetcher, hostile, dropped };
}

describe('hostile peers against a magnet download (BEP 9 metadata)', () => {
  test('ut_metadata data larger than 16 KiB drops the peer; the honest seeder supplies the metadata', async (t) => {
    const size = meta.infoBytes.length;
    const { fetcher, dropped } = await fetchPast(
      t,
      metadataPeer(size, (piece, send) =>
        send(
          Buffer.concat([
            encode({ msg_type: 1, piece, total_size: size }),
            randomBytes(METADATA_BLOCK_SIZE + 1000),
          ]),
        ),
      ),
    );
    const memoryBefore = retainedMemory();
    const fetching = fetcher.fetch(AbortSignal.timeout(15_000));
    assert.match(await within(dropped, 5000, 'drop'), /16384|exceeds/);
    fetcher.addPeer(honest);
    const fetched = await fetching;
    assert.ok(fetched.infoBytes.equals(meta.infoBytes));
    const grown = retainedMemory().arrayBuffers - memoryBefore.arrayBuffers;
    assert.ok(grown < RETAINED_ARRAY_BUFFERS_BOUND, `array buffers grew by ${grown}`);
  });

  test('a ut_metadata data message with the wrong total_size drops the peer', async (t) => {
    const size = meta.infoBytes.length;
    const { fetcher, dropped } = await fetchPast(
      t,
      metadataPeer(size, (piece, send) =>
        send(
          encodeMetadataMessage({
            msgType: 'data',
            piece,
            totalSize: size + 1,
            data: meta.infoBytes.subarray(piece * METADATA_BLOCK_SIZE, (piece + 1) * METADATA_BLOCK_SIZE),
          }),
        ),
      ),
    );
    const fetching = fetcher.fetch(AbortSignal.timeout(15_000));
    assert.match(await within(dropped, 5000, 'drop'), /size/);
    fetcher.addPeer(honest);
    assert.ok((await fetching).infoBytes.equals(meta.infoBytes));
  });

  test('unknown extension ids are ignored: the same peer then serves the metadata', async (t) => {
    const size = meta.infoBytes.length;
    const { fetcher, dropped } = await fetchPast(
      t,
      metadataPeer(
        size,
        (piece, send) =>
          send(
            encodeMetadataMessage({
              msgType: 'data',
              piece,
              totalSize: size,
              data: meta.infoBytes.subarray(piece * METADATA_BLOCK_SIZE, (piece + 1) * METADATA_BLOCK_SIZE),
            }),
          ),
        { before: [extended(200, randomBytes(300)), extended(LOCAL_EXTENSION_IDS.ut_pex, randomBytes(50))] },
      ),
    );
    let reason: string | undefined;
    void dropped.then((why) => {
      reason = why;
    });
    const fetched = await fetcher.fetch(AbortSignal.timeout(15_000));
    assert.ok(fetched.infoBytes.equals(meta.infoBytes), 'from the hostile peer alone');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(reason, 'metadata phase over', 'kept until the metadata was complete');
  });

  test('a malformed extension handshake drops the peer (it cannot offer metadata); the honest seeder does', async (t) => {
    const { fetcher, dropped } = await fetchPast(
      t,
      metadataPeer(meta.infoBytes.length, () => undefined, {
        handshake: Buffer.from('d1:md11:ut_metadatai3e'),
      }),
    );
    const fetching = fetcher.fetch(AbortSignal.timeout(15_000));
    assert.match(await within(dropped, 5000, 'drop'), /extension handshake|malformed/);
    fetcher.addPeer(honest);
    assert.ok((await fetching).infoBytes.equals(meta.infoBytes));
  });
});
