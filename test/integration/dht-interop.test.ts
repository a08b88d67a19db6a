/**
 * Real DHT interop on loopback: our pure DhtNode on a UDP socket (the few lines of glue in
 * test/helpers/dht-network.ts) joins a DHT of python3-libtorrent, aria2 and bittorrent-dht
 * (WebTorrent's) nodes, finds a libtorrent seeder's announce with get_peers, and its own
 * announce_peer is found by libtorrent (get_peers), bittorrent-dht (lookup) and aria2 (which dials
 * the announced port). Every datagram the real nodes send must decode.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  contactText,
  ltKnows,
  startAria2DhtNode,
  startBittorrentDhtNode,
  startLibtorrentDhtNode,
  startOurDhtNode,
  until,
} from '../helpers/dht-network.js';
import { payloadFixture } from '../helpers/payload-fixture.js';
import { freePort } from '../helpers/real-clients/net.js';
import { requirePythonLibtorrent, requireTool } from '../helpers/tools.js';

test('DHT interop: our DhtNode joins libtorrent, aria2 and bittorrent-dht nodes, finds a seeder and is found', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t) || !requireTool(t, 'aria2c')) return;
  const f = await payloadFixture(t, 256 * 1024 + 17, 'lodestone-dht-interop-');
  const ourHash = randomBytes(20);
  const ourHashHex = ourHash.toString('hex');

  // The network: libtorrent A is the entry point of everyone.
  const a = await startLibtorrentDhtNode(t, { bootstrap: [] });
  const b = await startLibtorrentDhtNode(t, { bootstrap: [a.contact] });
  const seeder = await startLibtorrentDhtNode(t, {
    bootstrap: [a.contact, b.contact],
    seed: {
      torrentPath: f.torrentPath,
      writeData: (dir) => copyFile(join(f.seedDir, 'payload.bin'), join(dir, 'payload.bin')),
    },
  });
  const looker = await startLibtorrentDhtNode(t, { bootstrap: [a.contact], getPeers: [ourHashHex] });
  const w1 = await startBittorrentDhtNode(t, [a.contact]);
  const w2 = await startBittorrentDhtNode(t, [a.contact, w1.contact]);

  // aria2 downloads a magnet of our info-hash: it dials whatever peer the DHT gives it.
  const ours = await startOurDhtNode(t);
  const dialled: string[] = [];
  const listener = createServer((socket: Socket) => {
    socket.once('data', (chunk) =>
      dialled.push(`${socket.remoteAddress} ${chunk.subarray(28, 48).toString('hex')}`),
    );
    socket.on('error', () => {});
    setTimeout(() => socket.destroy(), 500).unref();
  });
  const peerPort = await freePort(ours.contact.host);
  await new Promise<void>((resolve) => listener.listen(peerPort, ours.contact.host, resolve));
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const aria2 = await startAria2DhtNode(t, { entry: a.contact, uri: `magnet:?xt=urn:btih:${ourHashHex}` });

  // Readiness: libtorrent A knows the others, aria2 added A, bittorrent-dht knows A.
  await ltKnows(a, 3);
  await until('aria2 to add a DHT node', 20_000, async () => {
    const n = await aria2.addedNodes();
    return { done: n >= 1, status: `added=${n}` };
  });
  await until('bittorrent-dht nodes to know A', 10_000, () => ({
    done: w1.dht.toJSON().nodes.length >= 1 && w2.dht.toJSON().nodes.length >= 1,
    status: `w1=${w1.dht.toJSON().nodes.length} w2=${w2.dht.toJSON().nodes.length}`,
  }));

  // Our node joins through libtorrent A and bittorrent-dht w1, and learns every kind of node.
  const entries = [a.contact, w1.contact];
  await ours.node.bootstrap(entries);
  const kinds = {
    libtorrent: [a, b, seeder, looker].map((n) => n.contact.host),
    'bittorrent-dht': [w1, w2].map((n) => n.contact.host),
    aria2: [aria2.contact.host],
  };
  await until('our routing table to hold libtorrent, bittorrent-dht and aria2 nodes', 20_000, async () => {
    const hosts = new Set(ours.node.nodes().map((n) => n.host));
    const missing = Object.entries(kinds)
      .filter(([, list]) => !list.some((h) => hosts.has(h)))
      .map(([k]) => k);
    if (missing.length > 0) await ours.node.bootstrap(entries);
    return {
      done: missing.length === 0,
      status: `missing ${missing.join(', ')}; table ${[...hosts].join(' ')}`,
    };
  });

  // get_peers finds the libtorrent seeder's own announce.
  const seederPeer = `${seeder.contact.host}:${seeder.peerPort}`;
  await until("our get_peers to find the libtorrent seeder's announce", 20_000, async () => {
    const result = await ours.node.getPeers(f.meta.infoHash);
    const found = result.peers.map((p) => `${p.host}:${p.port}`);
    return {
      done: found.includes(seederPeer),
      status: `peers ${found.join(' ')}; ${result.responses} responses`,
    };
  });

  // Our announce_peer is accepted (tokens) and found by all three implementations.
  const announced = await ours.node.announce(ourHash, peerPort);
  assert.ok((announced.announced ?? 0) >= 3, `announce_peer acknowledged by ${announced.announced} nodes`);
  const ourPeer = `${ours.contact.host}:${peerPort}`;
  await until('libtorrent get_peers to find our announce', 20_000, async () => {
    const s = await looker.status();
    return { done: (s.found[ourHashHex] ?? []).includes(ourPeer), status: JSON.stringify(s.found) };
  });
  w1.dht.lookup(ourHash);
  await until('bittorrent-dht lookup to find our announce', 20_000, () => ({
    done: w1.peers.get(ourHashHex)?.has(ourPeer) ?? false,
    status: JSON.stringify([...(w1.peers.get(ourHashHex) ?? [])]),
  }));
  await until('aria2 to dial our announced port with our info-hash', 30_000, () => ({
    done: dialled.some((d) => d === `${aria2.contact.host} ${ourHashHex}`),
    status: `dialled: ${dialled.join(', ')}`,
  }));

  assert.deepEqual([...ours.rejected], [], 'every datagram from the real nodes decodes');
  const stats = ours.node.stats();
  assert.ok(stats.queriesReceived > 0, 'the real nodes queried us');
  t.diagnostic(`our node: ${JSON.stringify(stats)}; table ${ours.node.nodes().map(contactText).join(' ')}`);
});
