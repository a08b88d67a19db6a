/**
 * BEP 9 metadata fetching against scripted peers and a Lodestone seeder:
 * liars are found out, absurd sizes refused, honest metadata accepted.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseMagnet, parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { MetadataFetcher } from '../../src/session/metadata-fetcher.js';
import { generatePeerId } from '../../src/wire/index.js';
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

function lie(info: Buffer): Buffer {
  const wrong = Buffer.from(info);
  wrong[wrong.length - 100]! ^= 0xff; // same size, one byte off: only the hash check can tell
  return wrong;
}

test('metadata: a liar alone is found out; the honest peer added later supplies the real metadata', async (t) => {
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
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0 });
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

test('metadata: blocks spread over a liar and an honest peer; single-source retries isolate the liar', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-meta-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const { meta, seeder, honest } = await seededTorrent(root);
  t.after(() => seeder.close());
  const liar = await startScriptedPeer({
    host: '127.0.0.3',
    infoHash: meta.infoHash,
    metadata: lie(meta.infoBytes),
  });
  t.after(() => liar.close());
  const link = parseMagnet(
    `magnet:?xt=urn:btih:${meta.infoHashHex}&x.pe=127.0.0.3:${liar.port}&x.pe=${honest.host}:${honest.port}`,
  );
  // One block in flight per peer forces the first attempt to mix both sources.
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0, requestsPerPeer: 1 });
  const fetched = await fetcher.fetch(AbortSignal.timeout(20_000));
  assert.ok(fetched.infoBytes.equals(meta.infoBytes));
  assert.ok(liar.blocksServed > 0, 'the liar was asked');
});

test('metadata: a metadata_size of 1 GiB is refused without allocating it', async (t) => {
  const infoHash = randomBytes(20);
  const peer = await startScriptedPeer({ host: '127.0.0.4', infoHash, metadataSize: 1024 ** 3 });
  t.after(() => peer.close());
  const link = parseMagnet(`magnet:?xt=urn:btih:${infoHash.toString('hex')}&x.pe=127.0.0.4:${peer.port}`);
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0 });
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

test('metadata: a magnet with neither trackers nor peers says there is no way to find peers', async () => {
  const link = parseMagnet(`magnet:?xt=urn:btih:${'ab'.repeat(20)}`);
  const fetcher = new MetadataFetcher({ link, peerId: generatePeerId(), port: 0 });
  await assert.rejects(fetcher.fetch(), { code: 'LODESTONE_ERR_NO_PEER_SOURCE' });
});
