/**
 * Peer exchange (BEP 11) with scripted peers on loopback, against a real Lodestone session:
 * - Lodestone offers ut_pex in its extension handshake and tells a peer who speaks it about its
 *   other peers: one that told its listen port, not one that did not.
 * - A peer flooding PEX messages with thousands of addresses: one message a 45 s window is
 *   taken, 100 entries of it at most; the address book stays bounded and the session serves on.
 * - A private torrent (BEP 27): no ut_pex in the handshake, PEX messages ignored.
 * - `lodestone download --verbose --json` says how many addresses a peer's PEX gave.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import type { PeersLearnedEvent } from '../../src/session/event-types.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import {
  decodeExtensionHandshake,
  decodePexMessage,
  encodeExtensionHandshake,
  encodeMetadataMessage,
  LOCAL_EXTENSION_IDS,
} from '../../src/wire/index.js';
import type { Message } from '../../src/wire/types.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { connectScriptedClient, type ScriptedClient, startScriptedPeer } from '../helpers/scripted-peer.js';

const OUR_PEX_ID = 9;
const OUR_METADATA_ID = 7;

function torrent(isPrivate: boolean): TorrentMetadata {
  return parseTorrent(torrentBytes(isPrivate));
}

function torrentBytes(isPrivate: boolean): Buffer {
  const data = randomBytes(64 * 1024);
  return encode({
    info: {
      name: 'pex.bin',
      'piece length': 16384,
      pieces: pieceHashesOf(data, 16384),
      length: data.length,
      ...(isPrivate ? { private: 1 } : {}),
    },
  });
}

/** A Lodestone leecher listening on its own loopback address (nothing on disk: it only talks). */
async function lodestone(
  t: TestContext,
  meta: TorrentMetadata,
): Promise<{ session: TorrentSession; host: string; port: number; learned: PeersLearnedEvent[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-pex-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const host = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1 });
  t.after(() => client.close());
  const port = await client.listen();
  const session = client.add(meta, { path: dir, useTrackers: false });
  const learned: PeersLearnedEvent[] = [];
  session.on('peers-learned', (event) => learned.push(event));
  await session.start();
  return { session, host, port, learned };
}

/** A scripted peer dialling Lodestone; returns Lodestone's extension handshake `m`. */
async function dial(
  t: TestContext,
  target: { host: string; port: number },
  meta: TorrentMetadata,
  extension: { pex: boolean; listenPort?: number },
): Promise<{ peer: ScriptedClient; host: string; m: Map<string, number> }> {
  const host = nextLoopbackAddress();
  const peer = await connectScriptedClient(target.host, target.port, meta.infoHash, { localAddress: host });
  t.after(() => peer.close());
  const handshake = await peer.waitFor((m) => m.type === 'extended' && m.id === 0);
  peer.send({
    type: 'extended',
    id: 0,
    payload: encodeExtensionHandshake({
      m: new Map([
        ['ut_metadata', OUR_METADATA_ID],
        ...(extension.pex ? ([['ut_pex', OUR_PEX_ID]] as [string, number][]) : []),
      ]),
      ...(extension.listenPort !== undefined ? { p: extension.listenPort } : {}),
    }),
  });
  const m = decodeExtensionHandshake(handshake.type === 'extended' ? handshake.payload : new Uint8Array()).m;
  return { peer, host, m };
}

/** Sends a ut_metadata request and waits for the answer: every message sent before it was handled. */
async function sync(peer: ScriptedClient, m: Map<string, number>): Promise<void> {
  const before = peer.messages.length;
  peer.send({
    type: 'extended',
    id: m.get('ut_metadata') ?? LOCAL_EXTENSION_IDS.ut_metadata,
    payload: encodeMetadataMessage({ msgType: 'request', piece: 0 }),
  });
  await peer.waitFor(
    (message) =>
      peer.messages.indexOf(message) >= before &&
      message.type === 'extended' &&
      message.id === OUR_METADATA_ID,
  );
}

/** A PEX message adding `count` distinct loopback addresses nobody listens on (refused at once). */
function floodPayload(round: number, count: number): Uint8Array {
  const added = new Uint8Array(count * 6);
  for (let i = 0; i < count; i++) {
    added.set([127, 250, round & 0xff, i & 0xff, 0, 1 + (i >> 8)], i * 6);
  }
  return encode({ added, 'added.f': new Uint8Array(count), dropped: new Uint8Array(0) });
}

const pexFrom = (message: Message) => message.type === 'extended' && message.id === OUR_PEX_ID;

test('Lodestone offers ut_pex and tells a peer about its other peers (those that told a listen port)', {
  timeout: 30_000,
}, async (t) => {
  const meta = torrent(false);
  const node = await lodestone(t, meta);
  const told = await dial(t, node, meta, { pex: false, listenPort: 45_123 });
  const silent = await dial(t, node, meta, { pex: false });
  await sync(told.peer, told.m);
  await sync(silent.peer, silent.m);
  const listener = await dial(t, node, meta, { pex: true, listenPort: 45_124 });
  assert.equal(listener.m.get('ut_pex'), LOCAL_EXTENSION_IDS.ut_pex, 'ut_pex in our handshake');
  // The first message comes on the session's next one-second tick: no minute's wait.
  const message = await listener.peer.waitFor(pexFrom, 5_000);
  const pex = decodePexMessage(message.type === 'extended' ? message.payload : new Uint8Array());
  assert.deepEqual(
    pex.added.map((p) => `${p.address.host}:${p.address.port}`),
    [`${told.host}:45123`],
    'the peer that told its listen port, at that port; not the one that did not, nor the recipient',
  );
  assert.equal(pex.added[0]?.flags, 0, 'it dialled us: not marked reachable');
  assert.deepEqual(pex.dropped, []);
  // The others never offered ut_pex: they are sent none.
  assert.equal(told.peer.messages.filter(pexFrom).length, 0);
});

test('a peer flooding PEX with thousands of addresses: one message a window, 100 entries of it, the book bounded', {
  timeout: 30_000,
}, async (t) => {
  const meta = torrent(false);
  const node = await lodestone(t, meta);
  const hostile = await dial(t, node, meta, { pex: true, listenPort: 45_125 });
  for (let round = 0; round < 40; round++) {
    hostile.peer.send({
      type: 'extended',
      id: LOCAL_EXTENSION_IDS.ut_pex,
      payload: floodPayload(round, 3000),
    });
  }
  await sync(hostile.peer, hostile.m);
  const stats = node.session.stats();
  assert.equal(stats.pexLearned, 100, 'the first message, up to its first 100 entries');
  assert.ok(stats.knownPeers <= 101, `address book holds ${stats.knownPeers}`);
  assert.equal(node.learned.length, 1);
  assert.equal(node.learned[0]?.source, 'pex');
  assert.equal(node.learned[0]?.from, `${hostile.host}:${hostile.peer.socket.localPort}`);
  assert.ok(!hostile.peer.isClosed(), 'ignored, not a protocol violation');
});

test('a private torrent: no ut_pex in the handshake, PEX messages ignored', {
  timeout: 30_000,
}, async (t) => {
  const meta = torrent(true);
  assert.equal(meta.private, true);
  const node = await lodestone(t, meta);
  const peer = await dial(t, node, meta, { pex: true, listenPort: 45_126 });
  assert.equal(peer.m.get('ut_pex'), undefined, 'BEP 27: never offered');
  assert.equal(peer.m.get('ut_metadata'), LOCAL_EXTENSION_IDS.ut_metadata);
  peer.peer.send({ type: 'extended', id: LOCAL_EXTENSION_IDS.ut_pex, payload: floodPayload(0, 50) });
  await sync(peer.peer, peer.m);
  const stats = node.session.stats();
  assert.equal(stats.pexLearned, 0);
  assert.equal(stats.knownPeers, 1, 'only the peer itself');
  assert.equal(node.learned.length, 0);
});

test('download --verbose says how many addresses a peer gave through PEX (and --json counts them)', {
  timeout: 30_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-pex-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bytes = torrentBytes(false);
  const meta = parseTorrent(bytes);
  await writeFile(join(dir, 'x.torrent'), bytes);
  // A peer that offers ut_pex and, once it has the client's extension handshake, sends three
  // loopback addresses nobody listens on (port 1: refused at once).
  const peer = await startScriptedPeer({
    host: nextLoopbackAddress(),
    infoHash: meta.infoHash,
    onMessage(message, context) {
      if (message.type !== 'extended' || message.id !== 0) return;
      const pexId = decodeExtensionHandshake(message.payload).m.get('ut_pex');
      if (pexId === undefined) return;
      context.send({
        type: 'extended',
        id: 0,
        payload: encodeExtensionHandshake({ m: new Map([['ut_pex', OUR_PEX_ID]]) }),
      });
      context.send({ type: 'extended', id: pexId, payload: floodPayload(7, 3) });
    },
  });
  t.after(() => peer.close());
  const run = runCli([
    'download',
    join(dir, 'x.torrent'),
    '-o',
    join(dir, 'out'),
    '--no-trackers',
    '--peer',
    `${peer.host}:${peer.port}`,
    '-p',
    '0',
    '--bind',
    nextLoopbackAddress(),
    '--encryption',
    'disable', // the scripted peer speaks plaintext only
    '--json',
    '--verbose',
  ]);
  t.after(() => run.stop());
  const event = await run.waitFor((e) => e.type === 'peers-learned', 15_000);
  assert.deepEqual(
    { source: event.source, from: event.from, count: event.count },
    { source: 'pex', from: `${peer.host}:${peer.port}`, count: 3 },
  );
  await run.stop();
  const { stderr } = await run.exited;
  assert.match(stderr, new RegExp(`pex from ${peer.host.replaceAll('.', '\\.')}:${peer.port}: 3 new peers`));
});
