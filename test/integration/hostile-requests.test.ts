/**
 * A Lodestone seeder facing a peer whose requests are hostile: each is
 * answered by dropping the peer or ignoring the request, never by a crash or
 * by memory that grows with what the peer asks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TorrentMetadata } from '../../src/metainfo/index.js';
import type { Client } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import { decodeExtensionHandshake } from '../../src/wire/index.js';
import { singleFileTorrent, startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { connectScriptedClient, type ScriptedClient } from '../helpers/scripted-peer.js';

const PIECE = 64 * 1024;
let root: string;
let meta: TorrentMetadata;
let seeder: Client;
let session: TorrentSession;
let port: number;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-hostile-'));
  const data = randomBytes(PIECE * 40 + 999);
  meta = singleFileTorrent('h.bin', data, PIECE);
  // The last ten pieces are zeroed on disk: a partial seed, so some pieces are genuinely missing.
  const onDisk = Buffer.from(data);
  onDisk.fill(0, PIECE * 30);
  const started = await startLodestoneSeeder({ meta, onDisk, dir: join(root, 'seed'), host: '127.0.0.5' });
  ({ client: seeder, session } = started);
  port = started.address.port;
  assert.equal(session.have.count, 30);
});

after(async () => {
  await seeder.close();
  await rm(root, { recursive: true, force: true });
});

/**
 * A peer that breaks the rules is dropped at once, not left to the 3-minute
 * idle timeout: the bound is generous for a loaded machine and far below
 * anything a timer would explain.
 */
const DROP_BOUND_MS = 2000;

/**
 * Sends the offending message(s) and asserts the seeder drops this client
 * within DROP_BOUND_MS of it, for a reason matching `reason` (from the
 * seeder's `peer-disconnected` event). Fails at the bound, not at the test's
 * timeout, when the peer is kept.
 */
async function assertDropped(client: ScriptedClient, offend: () => void, reason: RegExp): Promise<void> {
  const key = `${client.socket.localAddress}:${client.socket.localPort}`;
  let listener: ((info: { address: string; reason: string }) => void) | undefined;
  const disconnected = new Promise<string>((resolve) => {
    listener = (info) => {
      if (info.address === key) resolve(info.reason);
    };
    session.on('peer-disconnected', listener);
  });
  const bound = new AbortController();
  const timedOut = sleep(DROP_BOUND_MS, 'kept', { signal: bound.signal }).catch(() => 'aborted');
  const sentAt = performance.now();
  offend();
  try {
    const seen = await Promise.race([disconnected, timedOut]);
    const elapsed = Math.round(performance.now() - sentAt);
    assert.notEqual(seen, 'kept', `the seeder still kept the peer ${DROP_BOUND_MS} ms after the offence`);
    assert.match(seen, reason, `dropped for the stated reason (after ${elapsed} ms)`);
    const closed = await Promise.race([client.closed.then(() => 'closed'), timedOut]);
    assert.equal(closed, 'closed', 'and its connection closed');
    assert.ok(performance.now() - sentAt < DROP_BOUND_MS, `dropped within ${DROP_BOUND_MS} ms`);
  } finally {
    bound.abort();
    if (listener) session.off('peer-disconnected', listener);
    client.close();
  }
}

async function unchokedClient(): Promise<ScriptedClient> {
  const client = await connectScriptedClient('127.0.0.5', port, meta.infoHash, { localAddress: '127.0.0.6' });
  await client.waitFor((m) => m.type === 'bitfield');
  client.send({ type: 'interested' });
  await client.waitFor((m) => m.type === 'unchoke');
  return client;
}

describe('hostile requests to a seeder', { timeout: 60_000 }, () => {
  test('a valid request is served; the extension handshake tells the peer its address (yourip)', async () => {
    const client = await unchokedClient();
    const handshake = await client.waitFor((m) => m.type === 'extended' && m.id === 0);
    assert.ok(handshake.type === 'extended');
    const extension = decodeExtensionHandshake(handshake.payload);
    assert.deepEqual([...(extension.yourip ?? [])], [127, 0, 0, 6]);
    assert.equal(extension.reqq, 2000);
    assert.equal(extension.metadataSize, meta.infoBytes.length);
    client.send({ type: 'request', index: 3, begin: 16384, length: 16384 });
    const piece = await client.waitFor((m) => m.type === 'piece');
    assert.ok(
      piece.type === 'piece' && piece.index === 3 && piece.begin === 16384 && piece.block.length === 16384,
    );
    client.close();
  });

  test('a request for a piece index out of range drops the peer', async () => {
    const client = await unchokedClient();
    await assertDropped(
      client,
      () => client.send({ type: 'request', index: meta.pieceCount + 5, begin: 0, length: 16384 }),
      /^protocol violation: request out of range$/,
    );
  });

  test('a request past the end of a piece drops the peer', async () => {
    const client = await unchokedClient();
    await assertDropped(
      client,
      () => client.send({ type: 'request', index: 1, begin: PIECE - 100, length: 16384 }),
      /^protocol violation: request out of range$/,
    );
  });

  test('an oversized request (32 KiB) drops the peer', async () => {
    const client = await unchokedClient();
    await assertDropped(
      client,
      () => client.send({ type: 'request', index: 1, begin: 0, length: 32768 }),
      /^protocol violation: request out of range$/,
    );
  });

  test('a request for a piece we do not have is ignored', async () => {
    const client = await unchokedClient();
    client.send({ type: 'request', index: 35, begin: 0, length: 16384 });
    client.send({ type: 'request', index: 2, begin: 0, length: 16384 });
    const piece = await client.waitFor((m) => m.type === 'piece');
    assert.ok(piece.type === 'piece' && piece.index === 2, 'the next valid request is still served');
    assert.ok(!client.messages.some((m) => m.type === 'piece' && m.index === 35));
    assert.ok(!client.isClosed());
    client.close();
  });

  test('a request while choked is ignored', async () => {
    const client = await connectScriptedClient('127.0.0.5', port, meta.infoHash, {
      localAddress: '127.0.0.7',
    });
    await client.waitFor((m) => m.type === 'bitfield');
    client.send({ type: 'request', index: 1, begin: 0, length: 16384 });
    await sleep(300);
    assert.ok(!client.messages.some((m) => m.type === 'piece'));
    client.close();
  });

  test('a flood of requests beyond reqq, never read, does not grow memory', async () => {
    const client = await unchokedClient();
    client.pause();
    const before = process.memoryUsage().rss;
    const burst: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) {
      const index = i % 30;
      const begin = (i % 4) * 16384;
      burst.push(Buffer.from([0, 0, 0, 13, 6, ...u32(index), ...u32(begin), ...u32(16384)]));
    }
    client.raw(Buffer.concat(burst));
    await sleep(1500);
    const peer = [...session.peers.values()].find((p) => p.connection.address.host === '127.0.0.6');
    assert.ok(peer, 'the flooding peer is still known (or was dropped)');
    assert.ok(peer.uploadQueue.length <= 2000, `queued requests bounded by reqq: ${peer.uploadQueue.length}`);
    assert.ok(
      peer.connection.writableLength < 4 * 1024 * 1024,
      `send buffer bounded: ${peer.connection.writableLength}`,
    );
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 64 * 1024 * 1024, `RSS grew by ${grown} bytes for 20,000 requests (312 MiB asked)`);
    client.close();
  });
});

function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}
