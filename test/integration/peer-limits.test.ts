/**
 * One connection budget for the process (issue 18): a Client with `maxPeers` (global) over two
 * seeding torrents refuses incoming peers beyond it whatever torrent they ask for, gives a
 * starved torrent a slot from the torrent with the most peers (fair share), and takes a raised
 * cap live (`setPeerLimits`). Loopback only; raw sockets handshake as peers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import { encodeHandshake } from '../../src/wire/handshake.js';
import { singleFileTorrent, startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { startScriptedPeer } from '../helpers/scripted-peer.js';

const HOST = '127.0.0.61';
const PIECE = 16 * 1024;

async function until(what: string, check: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A raw peer: connects and sends a handshake for `infoHash`, then stays silent. */
function rawPeer(port: number, infoHash: Buffer): Socket {
  const socket = connect({ host: HOST, port, localAddress: '127.0.0.62' });
  socket.on('error', () => socket.destroy());
  socket.on('data', () => {});
  socket.write(encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: randomBytes(20) }));
  return socket;
}

describe('Client: one connection budget for every torrent', { timeout: 60_000 }, () => {
  let dir: string;
  let client: Client;
  let a: TorrentSession;
  let b: TorrentSession;
  let port: number;
  const sockets: Socket[] = [];
  let peak = 0;
  let sampler: NodeJS.Timeout;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lodestone-peer-limits-'));
    const dataA = randomBytes(4 * PIECE);
    const dataB = randomBytes(4 * PIECE);
    const seeder = await startLodestoneSeeder({
      meta: singleFileTorrent('a.bin', dataA, PIECE),
      onDisk: dataA,
      dir: join(dir, 'a'),
      host: HOST,
      client: { maxPeers: 3, maxPeersPerTorrent: 3, utp: false, encryption: 'allow' },
    });
    client = seeder.client;
    a = seeder.session;
    port = seeder.address.port;
    const { writeFile, mkdir } = await import('node:fs/promises');
    const metaB = singleFileTorrent('b.bin', dataB, PIECE);
    await mkdir(join(dir, 'b'), { recursive: true });
    await writeFile(join(dir, 'b', 'b.bin'), dataB);
    b = client.add(metaB, { path: join(dir, 'b'), seed: true, useTrackers: false });
    await b.start();
    sampler = setInterval(() => {
      peak = Math.max(peak, client.connectedPeers, a.peers.size + b.peers.size);
    }, 5);
  });

  after(async () => {
    clearInterval(sampler);
    for (const socket of sockets) socket.destroy();
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('incoming peers beyond the global cap are refused, for any torrent', async () => {
    for (let i = 0; i < 5; i++) sockets.push(rawPeer(port, a.infoHash));
    await until('5 handshakes answered or refused', () => sockets.filter((s) => s.destroyed).length >= 2);
    await until('3 peers on torrent A', () => a.peers.size === 3);
    assert.equal(client.connectedPeers, 3);
    const b1 = rawPeer(port, b.infoHash);
    sockets.push(b1);
    await until('the peer of torrent B refused', () => b1.destroyed || b1.readyState === 'closed');
    assert.equal(b.peers.size, 0);
    assert.equal(client.connectedPeers, 3);
    assert.ok(peak <= 3, `peak ${peak}`);
  });

  test('a starved torrent gets a slot from the torrent with the most peers', async () => {
    const remote = await startScriptedPeer({ host: '127.0.0.63', infoHash: b.infoHash });
    try {
      b.addPeer({ host: remote.host, port: remote.port }, 'manual');
      await until('torrent B connected to its peer', () => b.peers.size === 1);
      assert.equal(a.peers.size, 2, 'A gave one of its 3 peers');
      assert.equal(client.connectedPeers, 3);
      assert.ok(peak <= 3, `peak ${peak}`);
    } finally {
      await remote.close();
    }
  });

  test('a raised cap takes effect live', async () => {
    await until('B lost its closed peer', () => b.peers.size === 0);
    client.setPeerLimits({ global: 5 });
    assert.deepEqual(client.peerLimits, { global: 5, perTorrent: 3 });
    const fresh = [rawPeer(port, b.infoHash), rawPeer(port, b.infoHash)];
    sockets.push(...fresh);
    await until('2 peers on torrent B', () => b.peers.size === 2);
    assert.ok(client.connectedPeers <= 5);
    assert.throws(() => client.setPeerLimits({ global: 0 }), /peer limit/);
  });
});
