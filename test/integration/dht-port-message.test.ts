/**
 * BEP 5 `port` message against a real Lodestone session with the DHT on (loopback only):
 * - to a peer that sets the DHT reserved bit we send our DHT port; to one that does not, nothing;
 * - a peer's `port` makes us ping that node (one KRPC ping), port 0 is ignored, and a flood of
 *   `port` messages costs one ping per connection;
 * - a private torrent (BEP 27): no DHT bit, no `port` message.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { decodeKrpc } from '../../src/dht/krpc.js';
import { parseTorrent, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import {
  encodeExtensionHandshake,
  encodeMetadataMessage,
  LOCAL_EXTENSION_IDS,
  reservedBits,
} from '../../src/wire/index.js';
import type { Message } from '../../src/wire/types.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { connectScriptedClient, type ScriptedClient } from '../helpers/scripted-peer.js';

function torrent(isPrivate: boolean): TorrentMetadata {
  const data = randomBytes(64 * 1024);
  return parseTorrent(
    encode({
      info: {
        name: 'port.bin',
        'piece length': 16384,
        pieces: pieceHashesOf(data, 16384),
        length: data.length,
        ...(isPrivate ? { private: 1 } : {}),
      },
    }),
  );
}

async function lodestone(
  t: TestContext,
  meta: TorrentMetadata,
): Promise<{ host: string; port: number; dhtPort: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-port-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const host = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1, dht: {} });
  t.after(() => client.close());
  const port = await client.listen();
  const session = client.add(meta, { path: dir, useTrackers: false });
  await session.start();
  return { host, port, dhtPort: client.dhtPort };
}

async function dial(
  t: TestContext,
  node: { host: string; port: number },
  meta: TorrentMetadata,
  dht: boolean,
  localAddress = nextLoopbackAddress(),
) {
  const peer = await connectScriptedClient(node.host, node.port, meta.infoHash, {
    localAddress,
    reserved: reservedBits({ extensionProtocol: true, dht }),
  });
  t.after(() => peer.close());
  await peer.waitFor((m) => m.type === 'extended' && m.id === 0);
  peer.send({
    type: 'extended',
    id: 0,
    payload: encodeExtensionHandshake({ m: new Map([['ut_metadata', OUR_METADATA_ID]]) }),
  });
  return peer;
}

/** A metadata request and its answer: every message before it was handled (both ways). */
async function sync(peer: ScriptedClient): Promise<void> {
  const before = peer.messages.length;
  peer.send({
    type: 'extended',
    id: LOCAL_EXTENSION_IDS.ut_metadata,
    payload: encodeMetadataMessage({ msgType: 'request', piece: 0 }),
  });
  await peer.waitFor(
    (m) => peer.messages.indexOf(m) >= before && m.type === 'extended' && m.id === OUR_METADATA_ID,
  );
}

const OUR_METADATA_ID = 7;
const isPort = (m: Message) => m.type === 'port';

test('port message: sent to DHT peers only; a peer’s port is pinged once, port 0 and floods ignored', {
  timeout: 30_000,
}, async (t) => {
  const meta = torrent(false);
  const node = await lodestone(t, meta);
  // The peer's DHT node: on the peer's own address, as BEP 5 means the port.
  const peerHost = nextLoopbackAddress();
  const withDht = await dial(t, node, meta, true, peerHost);
  const port = await withDht.waitFor(isPort, 5_000);
  assert.deepEqual(port, { type: 'port', port: node.dhtPort });
  const withoutDht = await dial(t, node, meta, false);
  await sync(withoutDht);
  assert.equal(withoutDht.messages.filter(isPort).length, 0, 'no port message without the DHT bit');

  const listener = createSocket('udp4');
  const pings: string[] = [];
  listener.on('message', (datagram) => {
    const message = decodeKrpc(datagram);
    pings.push(message.kind === 'query' ? message.method : message.kind);
  });
  await new Promise<void>((resolve) => listener.bind(0, peerHost, resolve));
  t.after(() => listener.close());
  withDht.send({ type: 'port', port: 0 });
  for (let i = 0; i < 200; i++) withDht.send({ type: 'port', port: listener.address().port });
  await sync(withDht);
  // The ping is sent as the message is handled; on loopback it has arrived within a moment.
  const deadline = Date.now() + 2_000;
  while (pings.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(pings, ['ping'], 'one ping for 200 port messages, none for port 0');
  assert.ok(!withDht.isClosed(), 'port messages are not a protocol violation');
});

test('port message: never for a private torrent (BEP 27)', { timeout: 30_000 }, async (t) => {
  const meta = torrent(true);
  const node = await lodestone(t, meta);
  const peer = await dial(t, node, meta, true);
  await sync(peer);
  assert.equal(peer.messages.filter(isPort).length, 0);
});
