/**
 * BEP 9 metadata fetching against scripted peers and a Lodestone seeder:
 * liars are found out, absurd sizes refused, honest metadata accepted. The fetchers dial in
 * plaintext (`encryption: 'disable'`): the scripted peers speak no MSE.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseMagnet, parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { MetadataFetcher } from '../../src/session/metadata-fetcher.js';
import { decodeMetadataMessage, encodeMetadataMessage, generatePeerId } from '../../src/wire/index.js';
import { startHostilePeer } from '../helpers/hostile-peer.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { startScriptedPeer } from '../helpers/scripted-peer.js';

/** A torrent with enough pieces that its info dictionary spans several 16 KiB metadata blocks. */
async function seededTorrent(root: string) {
  const pieceLength = 16 * 1024;
  const data = randomBytes(pieceLength * 2000 + 123);
  const torrent = encode({
    info: {
      name: 'm.bin',
      'piece length': pieceLength,
      pieces: pieceHashesOf(data, pieceLength),
      length: data.length,
    },
  });
  const meta = parseTorrent(torrent);
  await mkdir(join(root, 'seed'), { recursive: true });
  await writeFile(join(root, 'seed', 'm.bin'), data);
  const seeder = new Client({ port: 0, bindAddress: '127.0.0.2', hashWorkers: 1 });
  const port = await seeder.listen();
  const session = seeder.add(meta, { path: join(root, 'seed'), seed: true, useTrackers: false });
  await session.start();
  return { meta, seeder, honest: { host: '127.0.0.2', port } };
}

/** One byte off in every 16 KiB block: whichever block the liar serves is wrong. */
function lieEverywhere(info: Buffer): Buffer {
  const wrong = Buffer.from(info);
  for (let at = 0; at < wrong.length; at += 16 * 1024) wrong[at + 10]! ^= 0xff;
  return wrong;
}

/** `promise`, or a failed assertion naming what did not happen within `ms` (so a missing drop fails, not hangs). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new assert.AssertionError({ message: `${what} within ${ms} ms` })), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function lie(info: Buffer): Buffer {
  const wrong = Buffer.from(info);
  wrong[wrong.length - 100]! ^= 0xff; // same size, one byte off: only the hash check can tell
  return wrong;
}

test('metadata: a liar alone is found out; the honest peer added later supplies the real metadata', {
  timeout: 30_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-meta-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const { meta, seeder, honest } = await seededTorrent(root);
  t.after(() => seeder.close());
  assert.ok(meta.infoBytes.length > 32 * 1024, 'metadata spans several blocks');
  const liar = await startScriptedPeer({
    host: '127.0.0.3',
    infoHash: meta.infoHash,
    metadata: lie(meta.infoBytes),
  });
  t.after(() => liar.close());

  const link = parseMagnet(`magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=127.0.0.3:${liar.port}`);
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0, encryption: 'disable' });
  const rejected: string[][] = [];
  const dropped: { address: string; reason: string }[] = [];
  fetcher.on('metadata-rejected', ({ peers }) => {
    rejected.push(peers);
    fetcher.addPeer(honest);
  });
  fetcher.on('peer-disconnected', (info) => dropped.push(info));
  const fetched = await fetcher.fetch(AbortSignal.timeout(20_000));
  assert.equal(fetched.infoHashHex, meta.infoHashHex);
  assert.ok(fetched.infoBytes.equals(meta.infoBytes));
  assert.deepEqual(rejected, [[`127.0.0.3:${liar.port}`]]);
  assert.ok(dropped.some((d) => d.address === `127.0.0.3:${liar.port}` && /does not match/.test(d.reason)));
});

/**
 * Blocks spread over a liar and an honest peer; single-source retries isolate the liar. The
 * peer listed first usually connects first and so takes the first solo turn: liar first, its
 * solo attempt fails and proves it; honest first, the metadata verify and the liar's blocks of
 * the mixed attempt are compared with them. Either way the liar must be named.
 */
async function isolateLiar(t: TestContext, liarFirst: boolean): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-meta-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const { meta, seeder, honest } = await seededTorrent(root);
  t.after(() => seeder.close());
  const liar = await startScriptedPeer({
    host: '127.0.0.3',
    infoHash: meta.infoHash,
    metadata: lieEverywhere(meta.infoBytes),
  });
  t.after(() => liar.close());
  const peers = [`127.0.0.3:${liar.port}`, `${honest.host}:${honest.port}`];
  if (!liarFirst) peers.reverse();
  const link = parseMagnet(`magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=${peers.join('&x.pe=')}`);
  // One block in flight per peer forces the first attempt to mix both sources.
  const fetcher = new MetadataFetcher({
    link,
    peerId: generatePeerId(),
    port: 0,
    encryption: 'disable',
    requestsPerPeer: 1,
  });
  const rejected: string[][] = [];
  const banned: { address: string; reason: string }[] = [];
  const dropped: { address: string; reason: string }[] = [];
  fetcher.on('metadata-rejected', ({ peers }) => rejected.push(peers));
  fetcher.on('peer-banned', (info) => banned.push(info));
  fetcher.on('peer-disconnected', (info) => dropped.push(info));
  const fetched = await fetcher.fetch(AbortSignal.timeout(20_000));
  assert.ok(fetched.infoBytes.equals(meta.infoBytes));
  assert.ok(liar.blocksServed > 0, 'the liar was asked');
  const liarKey = `127.0.0.3:${liar.port}`;
  const honestKey = `${honest.host}:${honest.port}`;
  assert.equal(rejected.length >= 1, true, 'the mixed first attempt failed its hash check');
  assert.deepEqual(rejected[0]!.sort(), [liarKey, honestKey].sort());
  // Whichever peer won the solo turn, the liar is named, banned and dropped for the hash failure.
  assert.deepEqual(
    banned.map((b) => b.address),
    [liarKey],
  );
  assert.match(banned[0]!.reason, /does not match the info-hash/);
  assert.ok(dropped.some((d) => d.address === liarKey && /does not match the info-hash/.test(d.reason)));
  assert.equal(fetcher.attempt.outcomes.liar, 1);
  assert.ok(!fetcher.discoveredPeers.some((p) => p.host === '127.0.0.3'), 'the liar is not handed on');
}

test(
  'metadata: mixed blocks, liar listed first: single-source retries isolate the liar',
  { timeout: 30_000 },
  (t) => isolateLiar(t, true),
);

test('metadata: mixed blocks, honest peer listed first: the liar is still named', { timeout: 30_000 }, (t) =>
  isolateLiar(t, false),
);

test('metadata: a peer that never sends its extension handshake is dropped promptly', {
  timeout: 30_000,
}, async (t) => {
  const infoHash = randomBytes(20);
  const silent = await startHostilePeer({ host: '127.0.0.5', infoHash });
  t.after(() => silent.close());
  const link = parseMagnet(`magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=${silent.key}`);
  const fetcher = new MetadataFetcher({
    link,
    peerId: generatePeerId(),
    port: 0,
    encryption: 'disable',
    extensionHandshakeTimeoutMs: 300,
  });
  const dropped = new Promise<{ address: string; reason: string }>((resolve) =>
    fetcher.once('peer-disconnected', resolve),
  );
  const abort = new AbortController();
  const fetching = fetcher.fetch(abort.signal).catch((error: Error) => error);
  const { address, reason } = await within(dropped, 5000, 'the silent peer was not dropped');
  assert.equal(address, silent.key);
  assert.match(reason, /sent no extension handshake within 300ms/);
  assert.equal(fetcher.attempt.outcomes['timed-out'], 1);
  abort.abort();
  assert.match(String(await fetching), /aborted/);
});

test('metadata: a peer that rejects every block is dropped as having no metadata', {
  timeout: 30_000,
}, async (t) => {
  const infoHash = randomBytes(20);
  const refuser = await startScriptedPeer({
    host: '127.0.0.9',
    infoHash,
    metadataSize: 40_000,
    onMessage(message, peer) {
      if (message.type !== 'extended' || message.id === 0 || peer.remoteMetadataId === undefined) return;
      const request = decodeMetadataMessage(message.payload);
      if (request.msgType !== 'request') return;
      peer.send({
        type: 'extended',
        id: peer.remoteMetadataId,
        payload: encodeMetadataMessage({ msgType: 'reject', piece: request.piece }),
      });
    },
  });
  t.after(() => refuser.close());
  const key = `127.0.0.9:${refuser.port}`;
  const link = parseMagnet(`magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=${key}`);
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0, encryption: 'disable' });
  const dropped = new Promise<{ address: string; reason: string }>((resolve) =>
    fetcher.once('peer-disconnected', resolve),
  );
  const abort = new AbortController();
  const fetching = fetcher.fetch(abort.signal).catch((error: Error) => error);
  assert.deepEqual(await within(dropped, 5000, 'the refusing peer was not dropped'), {
    address: key,
    reason: 'peer rejected our metadata requests (it has no metadata)',
  });
  assert.equal(fetcher.attempt.outcomes['no-metadata'], 1);
  abort.abort();
  assert.match(String(await fetching), /aborted/);
});

test('metadata: a peer that holds a block request unanswered is dropped and the block asked of another', {
  timeout: 30_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-meta-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const { meta, seeder, honest } = await seededTorrent(root);
  t.after(() => seeder.close());
  // Offers the metadata (metadata_size) and then never answers a request.
  const mute = await startScriptedPeer({
    host: '127.0.0.6',
    infoHash: meta.infoHash,
    metadataSize: meta.infoBytes.length,
  });
  t.after(() => mute.close());
  const muteKey = `127.0.0.6:${mute.port}`;
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=${muteKey}&x.pe=${honest.host}:${honest.port}`,
  );
  const fetcher = new MetadataFetcher({
    link,
    peerId: generatePeerId(),
    port: 0,
    encryption: 'disable',
    requestsPerPeer: 1,
    blockTimeoutMs: 500,
  });
  const dropped: { address: string; reason: string }[] = [];
  fetcher.on('peer-disconnected', (info) => dropped.push(info));
  const fetched = await fetcher.fetch(AbortSignal.timeout(15_000));
  assert.ok(fetched.infoBytes.equals(meta.infoBytes));
  assert.ok(
    dropped.some((d) => d.address === muteKey && /answered no metadata request within 500ms/.test(d.reason)),
    JSON.stringify(dropped),
  );
});

test('metadata: no progress for metadataTimeoutMs fails with LODESTONE_ERR_METADATA saying what was tried', {
  timeout: 30_000,
}, async (t) => {
  const infoHash = randomBytes(20);
  const mute = await startScriptedPeer({ host: '127.0.0.7', infoHash, metadataSize: 40_000 });
  t.after(() => mute.close());
  const noExtensions = await startHostilePeer({ host: '127.0.0.8', infoHash, extensionProtocol: false });
  t.after(() => noExtensions.close());
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=127.0.0.7:${mute.port}&x.pe=${noExtensions.key}`,
  );
  const fetcher = new MetadataFetcher({
    link,
    peerId: generatePeerId(),
    port: 0,
    encryption: 'disable',
    metadataTimeoutMs: 1500,
    blockTimeoutMs: 60_000,
  });
  const started = Date.now();
  await assert.rejects(fetcher.fetch(AbortSignal.timeout(10_000)), {
    code: 'LODESTONE_ERR_METADATA',
    message:
      'metadata could not be fetched (no progress for 1s500ms): no trackers, 2 peers found, 2 connected, 1 had no metadata',
  });
  assert.ok(Date.now() - started < 5000, 'gave up at the deadline, not at the abort');
});

test('metadata: a metadata_size of 1 GiB is refused without allocating it', {
  timeout: 30_000,
}, async (t) => {
  const infoHash = randomBytes(20);
  const peer = await startScriptedPeer({ host: '127.0.0.4', infoHash, metadataSize: 1024 ** 3 });
  t.after(() => peer.close());
  const link = parseMagnet(`magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=127.0.0.4:${peer.port}`);
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0, encryption: 'disable' });
  const before = process.memoryUsage();
  const reason = new Promise<string>((resolve) =>
    fetcher.once('peer-disconnected', ({ reason }) => resolve(reason)),
  );
  const abort = new AbortController();
  const fetching = fetcher.fetch(abort.signal).catch((error: Error) => error);
  assert.match(await reason, /metadata/i);
  const after = process.memoryUsage();
  assert.ok(after.arrayBuffers - before.arrayBuffers < 64 * 1024 * 1024, 'no large buffer was allocated');
  abort.abort();
  const outcome = await fetching;
  assert.ok(outcome instanceof Error && /aborted/.test(outcome.message));
});

test('metadata: a magnet with neither trackers nor peers says there is no way to find peers', {
  timeout: 30_000,
}, async () => {
  const link = parseMagnet(`magnet:?xt=urn:btih:${'ab'.repeat(20)}`);
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0, encryption: 'disable' });
  await assert.rejects(fetcher.fetch(), { code: 'LODESTONE_ERR_NO_PEER_SOURCE' });
});
