/**
 * A Lodestone seeder facing hostile peers that dial it: each is dropped (at
 * the listener or by the session) or its message ignored where the spec says
 * so, memory stays flat, and after each one the seeder still serves an honest
 * client. Addresses: 127.0.2.x (seeder .1, honest clients .2, hostile .10+).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { encode } from '../../src/bencode/index.js';
import type { TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import {
  encodeExtensionHandshake,
  encodeMetadataMessage,
  METADATA_BLOCK_SIZE,
} from '../../src/wire/index.js';
import { dialRaw, handshakeBytes, rawMessage, retainedMemory } from '../helpers/hostile-peer.js';
import { singleFileTorrent, startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { connectScriptedClient, type ScriptedClient } from '../helpers/scripted-peer.js';

const PIECE = 16 * 1024;
/**
 * 1021 pieces of 16 KiB (16 MiB): not a multiple of 8 (the bitfield has spare bits), and
 * enough pieces that the info dictionary exceeds one 16 KiB metadata block, so a ut_metadata
 * request costs the seeder a full 16 KiB answer.
 */
const PIECE_COUNT = 1021;
const DATA_LENGTH = PIECE * (PIECE_COUNT - 1) + 5000;
const SEEDER_HOST = '127.0.2.1';
const HONEST_HOST = '127.0.2.2';
/** Injected listener handshake timeout (the default is 10 s). */
const HANDSHAKE_TIMEOUT_MS = 1500;
/** "At once": well under the handshake timeout, so a prompt drop is told apart from a timeout. */
const PROMPTLY_MS = 750;
/**
 * Bound on memory the process still references after one hostile peer (after a full GC). What
 * legitimately stays is the seeder's read cache (16 MiB at most; the request flood below fills
 * about 4 MiB of it, the rest stay under 64 KiB) plus decoder and socket buffers. Every flood
 * below would cost far more if its answers were kept: 5,000 ut_metadata requests are 80 MiB of
 * answers, 20,000 block requests 312 MiB.
 */
const RETAINED_ARRAY_BUFFERS_BOUND = 24 * 1024 * 1024;

let root: string;
let data: Buffer;
let meta: TorrentMetadata;
let seeder: Client;
let session: TorrentSession;
let port: number;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-hostile-seed-'));
  data = randomBytes(DATA_LENGTH);
  meta = singleFileTorrent('s.bin', data, PIECE);
  assert.equal(meta.pieceCount, PIECE_COUNT);
  assert.ok(meta.infoBytes.length > METADATA_BLOCK_SIZE);
  const started = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(root, 'seed'),
    host: SEEDER_HOST,
    client: { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS },
  });
  ({ client: seeder, session } = started);
  port = started.address.port;
});

after(async () => {
  await seeder.close();
  await rm(root, { recursive: true, force: true });
});

let nextHost = 10;
function hostileHost(): string {
  return `127.0.2.${nextHost++}`;
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the reason the session gives when it drops the peer connected from `host`. */
function droppedFrom(host: string): Promise<string> {
  return new Promise((resolve) => {
    const listener = ({ address, reason }: { address: string; reason: string }): void => {
      if (!address.startsWith(`${host}:`)) return;
      session.off('peer-disconnected', listener);
      resolve(reason);
    };
    session.on('peer-disconnected', listener);
  });
}

/** An honest client asks for a random block and checks its bytes: the seeder still serves. */
async function assertStillServes(): Promise<void> {
  const client = await connectScriptedClient(SEEDER_HOST, port, meta.infoHash, { localAddress: HONEST_HOST });
  try {
    await client.waitFor((m) => m.type === 'bitfield', 5000);
    client.send({ type: 'interested' });
    await client.waitFor((m) => m.type === 'unchoke', 5000);
    const index = Math.floor(Math.random() * (PIECE_COUNT - 1));
    client.send({ type: 'request', index, begin: 0, length: PIECE });
    const piece = await client.waitFor((m) => m.type === 'piece', 5000);
    assert.ok(piece.type === 'piece' && piece.index === index);
    assert.ok(Buffer.from(piece.block).equals(data.subarray(index * PIECE, (index + 1) * PIECE)));
  } finally {
    client.close();
  }
}

/** Checks retained memory around `body`, then that the seeder still serves an honest client. */
async function hostileCase(body: () => Promise<void>): Promise<void> {
  const before = retainedMemory();
  await body();
  const grown = retainedMemory().arrayBuffers - before.arrayBuffers;
  assert.ok(grown < RETAINED_ARRAY_BUFFERS_BOUND, `array buffers grew by ${grown} bytes`);
  await assertStillServes();
}

/** A hostile client past the handshake (the seeder has sent its bitfield). */
async function hostileClient(t: TestContext): Promise<{ client: ScriptedClient; dropped: Promise<string> }> {
  const host = hostileHost();
  const dropped = droppedFrom(host);
  const client = await connectScriptedClient(SEEDER_HOST, port, meta.infoHash, { localAddress: host });
  t.after(() => client.close());
  await client.waitFor((m) => m.type === 'bitfield', 5000);
  return { client, dropped };
}

async function unchoked(client: ScriptedClient): Promise<void> {
  client.send({ type: 'interested' });
  await client.waitFor((m) => m.type === 'unchoke', 5000);
}

function extended(id: number, payload: Uint8Array): Buffer {
  return rawMessage(2 + payload.length, Buffer.concat([Buffer.from([20, id]), payload]));
}

function requestBytes(index: number, begin: number, length: number): Buffer {
  const out = Buffer.alloc(17);
  out.writeUInt32BE(13, 0);
  out[4] = 6;
  out.writeUInt32BE(index, 5);
  out.writeUInt32BE(begin, 9);
  out.writeUInt32BE(length, 13);
  return out;
}

describe('hostile peers dialing a Lodestone seeder: handshakes', () => {
  test('a handshake for another info-hash is refused at once', () =>
    hostileCase(async () => {
      const raw = await dialRaw(SEEDER_HOST, port, hostileHost());
      raw.write(handshakeBytes({ infoHash: randomBytes(20) }));
      assert.ok((await within(raw.closed, 5000, 'close')) < PROMPTLY_MS);
      assert.equal(raw.received().length, 0, 'nothing is said to a peer for a torrent we do not serve');
    }));

  test('a handshake with another protocol string is refused at once', () =>
    hostileCase(async () => {
      const raw = await dialRaw(SEEDER_HOST, port, hostileHost());
      raw.write(handshakeBytes({ infoHash: meta.infoHash, protocol: 'BitTorrent protocoX' }));
      assert.ok((await within(raw.closed, 5000, 'close')) < PROMPTLY_MS);
    }));

  test('another protocol (a short HTTP request) is refused without waiting for 68 bytes', () =>
    hostileCase(async () => {
      const raw = await dialRaw(SEEDER_HOST, port, hostileHost());
      raw.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      const elapsed = await within(raw.closed, 5000, 'close');
      assert.ok(elapsed < PROMPTLY_MS, `closed after ${elapsed} ms`);
    }));

  test('a handshake dribbled byte by byte (slowloris) is cut off by the handshake timeout', () =>
    hostileCase(async () => {
      const raw = await dialRaw(SEEDER_HOST, port, hostileHost());
      raw.dribble(handshakeBytes({ infoHash: meta.infoHash }), 1000); // 68 bytes would take 68 s
      const elapsed = await within(raw.closed, HANDSHAKE_TIMEOUT_MS + 3000, 'close');
      assert.ok(elapsed >= HANDSHAKE_TIMEOUT_MS - 100, `closed after ${elapsed} ms`);
      assert.equal(raw.received().length, 0);
    }));

  test('a connection that sends nothing is closed by the handshake timeout', () =>
    hostileCase(async () => {
      const raw = await dialRaw(SEEDER_HOST, port, hostileHost());
      const elapsed = await within(raw.closed, HANDSHAKE_TIMEOUT_MS + 3000, 'close');
      assert.ok(elapsed >= HANDSHAKE_TIMEOUT_MS - 100, `closed after ${elapsed} ms`);
    }));

  test('100 silent connections from one host do not lock an honest peer out of the listener', () =>
    hostileCase(async () => {
      const host = hostileHost();
      const silent = await Promise.all(Array.from({ length: 100 }, () => dialRaw(SEEDER_HOST, port, host)));
      try {
        // While they are all still waiting for their handshake timeout:
        await assertStillServes();
        await sleep(200);
        const open = silent.filter((raw) => !raw.isClosed()).length;
        assert.ok(open < 100, `the listener bounds one host's pending handshakes (${open} still open)`);
      } finally {
        for (const raw of silent) raw.close();
      }
    }));
});

describe('hostile peers dialing a Lodestone seeder: malformed messages', () => {
  test('a length prefix of 2 GiB drops the peer', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      client.raw(rawMessage(2 ** 31, Buffer.from([7])));
      client.raw(randomBytes(64 * 1024));
      assert.match(await within(dropped, 5000, 'drop'), /length/);
    }));

  test('a have with length 9 drops the peer', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      client.raw(rawMessage(9, Buffer.from([4, 0, 0, 0, 1, 0, 0, 0, 0])));
      assert.match(await within(dropped, 5000, 'drop'), /have/);
    }));

  test('a bitfield of the wrong length drops the peer', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      client.raw(rawMessage(1 + 5, Buffer.from([5, 0xff, 0xff, 0xff, 0xff, 0xff])));
      assert.match(await within(dropped, 5000, 'drop'), /bitfield/);
    }));

  test('a bitfield with spare bits set drops the peer', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      const bits = new Uint8Array(Math.ceil(PIECE_COUNT / 8));
      bits[bits.length - 1] = 0x01; // past piece 1020
      client.send({ type: 'bitfield', bits });
      assert.match(await within(dropped, 5000, 'drop'), /spare bits/);
    }));

  test('a bitfield after a have replaces the availability (aria2 re-sends its bitfield), not fatal', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      client.send({ type: 'have', index: 3 });
      client.send({ type: 'bitfield', bits: new Uint8Array(Math.ceil(PIECE_COUNT / 8)) });
      const outcome = await Promise.race([dropped.then(() => 'dropped'), sleep(500).then(() => 'kept')]);
      assert.equal(outcome, 'kept');
      assert.ok(!client.isClosed());
    }));

  test('a have for a piece index out of range drops the peer', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      client.send({ type: 'have', index: 0xffff_ffff });
      assert.match(await within(dropped, 5000, 'drop'), /out of range/);
    }));
});

describe('hostile peers dialing a Lodestone seeder: requests and blocks', () => {
  test('a flood of requests while choked is ignored: nothing served, nothing kept', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      const burst: Buffer[] = [];
      for (let i = 0; i < 20_000; i++) burst.push(requestBytes(i % (PIECE_COUNT - 1), 0, PIECE));
      client.raw(Buffer.concat(burst));
      await sleep(500);
      assert.ok(!client.messages.some((m) => m.type === 'piece'), 'no block for a choked peer');
      assert.ok(!client.isClosed(), 'requests while choked are ignored, not fatal (BEP 3)');
      const peer = [...session.peers.values()].find(
        (p) => p.connection.address.host === client.socket.localAddress,
      );
      assert.equal(peer?.uploadQueue.length, 0);
    }));

  for (const [what, index, begin, length] of [
    ['index 2^32-1', 0xffff_ffff, 0, PIECE],
    ['begin past the piece end', 5, PIECE, 16],
    ['length 0', 5, 0, 0],
    ['length 128 KiB', 5, 0, 128 * 1024],
    ['a block running past the short last piece', PIECE_COUNT - 1, 4096, 4096],
  ] as const) {
    test(`a request out of range (${what}) drops the peer`, (t) =>
      hostileCase(async () => {
        const { client, dropped } = await hostileClient(t);
        await unchoked(client);
        client.raw(requestBytes(index, begin, length));
        assert.match(await within(dropped, 5000, 'drop'), /request/);
      }));
  }

  test('a flood of requests from a peer that never reads is bounded (queue and send buffer)', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      await unchoked(client);
      client.pause();
      const burst: Buffer[] = [];
      for (let i = 0; i < 20_000; i++) burst.push(requestBytes(i % (PIECE_COUNT - 1), 0, PIECE));
      client.raw(Buffer.concat(burst));
      await sleep(1000);
      const peer = [...session.peers.values()].find(
        (p) => p.connection.address.host === client.socket.localAddress,
      );
      assert.ok(peer, 'still connected');
      assert.ok(peer.uploadQueue.length <= 2000, `queue bounded by reqq: ${peer.uploadQueue.length}`);
      assert.ok(
        peer.connection.writableLength < 4 * 1024 * 1024,
        `send buffer: ${peer.connection.writableLength}`,
      );
      client.close();
    }));

  test('a flood of blocks we never requested drops the peer', (t) =>
    hostileCase(async () => {
      const { client, dropped } = await hostileClient(t);
      for (let i = 0; i < 200; i++)
        client.send({ type: 'piece', index: i, begin: 0, block: randomBytes(PIECE) });
      assert.match(await within(dropped, 5000, 'drop'), /request/);
    }));

  test('interested / not-interested flapping (10,000 times) is survived', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      const burst: Buffer[] = [];
      for (let i = 0; i < 10_000; i++) burst.push(Buffer.from([0, 0, 0, 1, i % 2 === 0 ? 2 : 3]));
      client.raw(Buffer.concat(burst));
      await sleep(500);
      client.close();
    }));
});

describe('hostile peers dialing a Lodestone seeder: extension messages', () => {
  test('a malformed extension handshake is not fatal', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      client.raw(extended(0, Buffer.from('d1:md11:ut_metadatai')));
      await unchoked(client);
      client.send({ type: 'request', index: 1, begin: 0, length: PIECE });
      await client.waitFor((m) => m.type === 'piece', 5000);
      assert.ok(!client.isClosed());
    }));

  test('unknown extension ids and unknown message ids are ignored', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      client.raw(extended(200, randomBytes(1000)));
      client.raw(extended(9, Buffer.from('d5:helloi1ee')));
      client.raw(rawMessage(5000, Buffer.concat([Buffer.from([77]), randomBytes(4999)])));
      await unchoked(client);
      client.send({ type: 'request', index: 2, begin: 0, length: PIECE });
      await client.waitFor((m) => m.type === 'piece', 5000);
      assert.ok(!client.isClosed());
    }));

  test('a ut_metadata data message over 16 KiB sent to a seeder is ignored', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      const payload = Buffer.concat([
        encode({ msg_type: 1, piece: 0, total_size: 40_000 }),
        randomBytes(METADATA_BLOCK_SIZE + 500),
      ]);
      client.raw(extended(3, payload));
      await unchoked(client);
      client.send({ type: 'request', index: 3, begin: 0, length: PIECE });
      await client.waitFor((m) => m.type === 'piece', 5000);
    }));

  test('a flood of ut_metadata requests from a peer that never reads does not fill memory', (t) =>
    hostileCase(async () => {
      const { client } = await hostileClient(t);
      client.send({
        type: 'extended',
        id: 0,
        payload: encodeExtensionHandshake({ m: new Map([['ut_metadata', 5]]), v: 'Hostile' }),
      });
      client.pause();
      const request = extended(3, encodeMetadataMessage({ msgType: 'request', piece: 0 }));
      client.raw(Buffer.concat(Array.from({ length: 5000 }, () => request)));
      await sleep(1000);
      const peer = [...session.peers.values()].find(
        (p) => p.connection.address.host === client.socket.localAddress,
      );
      const buffered = peer?.connection.writableLength ?? 0;
      assert.ok(
        buffered < 4 * 1024 * 1024,
        `${buffered} bytes of answers buffered for a peer that never reads`,
      );
      client.close();
    }));
});

test('after all that, a Lodestone leecher downloads the whole torrent from the seeder', async (t) => {
  const dir = await mkdtemp(join(root, 'leech-'));
  const leecher = new Client({ port: false, bindAddress: '127.0.2.3', hashWorkers: 1 });
  t.after(() => leecher.close());
  const download = leecher.add(meta, {
    path: dir,
    useTrackers: false,
    peers: [{ host: SEEDER_HOST, port }],
  });
  const done = new Promise<void>((resolve, reject) => {
    download.once('done', resolve);
    download.once('error', reject);
  });
  await download.start();
  await within(done, 20_000, 'download');
  await leecher.close();
  assert.ok((await readFile(join(dir, 's.bin'))).equals(data));
});
