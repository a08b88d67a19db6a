/**
 * Metadata floods (issue 15): 100 magnet peers each claim a different metadata_size just
 * under the 8 MiB cap. Half push blocks nobody asked for; the other half answer every
 * request with garbage of their size. One honest peer has the real metadata. The fetch
 * runs in a child process so its peak RSS is measured alone (VmHWM of /proc/self/status
 * read at the end, not sampled), and the fetcher's own accounting says how many block bytes
 * it ever held.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  MAX_METADATA_SIZE,
  METADATA_BLOCK_SIZE,
} from '../../src/wire/index.js';
import { runNodeChild } from '../helpers/node-child.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { type ScriptedPeer, type ScriptedPeerContext, startScriptedPeer } from '../helpers/scripted-peer.js';

const HOSTILE_PEERS = 100;
/** Peak RSS of the fetching process. Node itself is ~45 MB; the assemblies may hold 16 MiB. */
const RSS_BOUND_MB = 150;
/** METADATA_ASSEMBLY_BYTES_LIMIT: 2 candidate sizes × 8 MiB. */
const ASSEMBLY_BYTES_BOUND = 2 * MAX_METADATA_SIZE;

/** Garbage every hostile peer slices its blocks from (one buffer for all of them). */
const garbage = randomBytes(MAX_METADATA_SIZE);

function blockOf(size: number, piece: number): Buffer {
  const start = piece * METADATA_BLOCK_SIZE;
  return garbage.subarray(start, Math.min(size, start + METADATA_BLOCK_SIZE));
}

function sendBlock(peer: ScriptedPeerContext, size: number, piece: number): void {
  if (peer.remoteMetadataId === undefined || peer.socket.destroyed) return;
  peer.send({
    type: 'extended',
    id: peer.remoteMetadataId,
    payload: encodeMetadataMessage({ msgType: 'data', piece, totalSize: size, data: blockOf(size, piece) }),
  });
}

/**
 * A peer claiming `size`. A pusher sends every block of its size, last first (so none
 * matches a request), as soon as it has the client's extension handshake; both kinds
 * answer requests with garbage.
 */
function startHostile(host: string, infoHash: Buffer, size: number, pusher: boolean): Promise<ScriptedPeer> {
  return startScriptedPeer({
    host,
    infoHash,
    metadataSize: size,
    onMessage(message, peer) {
      if (message.type !== 'extended') return;
      if (message.id === 0) {
        if (pusher) {
          for (let piece = Math.ceil(size / METADATA_BLOCK_SIZE) - 1; piece >= 0; piece--) {
            sendBlock(peer, size, piece);
          }
        }
        return;
      }
      const request = decodeMetadataMessage(message.payload);
      if (request.msgType === 'request') sendBlock(peer, size, request.piece);
    },
  });
}

const CHILD = `
const [fetcherUrl, metainfoUrl, wireUrl] = process.argv.slice(1);
const { readFileSync } = await import('node:fs');
const { MetadataFetcher } = await import(fetcherUrl);
const { parseMagnet } = await import(metainfoUrl);
const { generatePeerId } = await import(wireUrl);
const fetcher = new MetadataFetcher({
  link: parseMagnet(process.env.FLOOD_MAGNET),
  peerId: generatePeerId('-LS0001-'),
  port: 0,
  encryption: 'disable', // the flooding peers speak no MSE
  useTrackers: false,
  peers: JSON.parse(process.env.FLOOD_PEERS),
  metadataTimeoutMs: 60000,
});
const reasons = {};
const byPeer = {};
fetcher.on('peer-disconnected', ({ address, reason }) => {
  reasons[reason] = (reasons[reason] ?? 0) + 1;
  byPeer[address] ??= reason;
});
const meta = await fetcher.fetch();
process.stdout.write(JSON.stringify({
  infoHash: meta.infoHash.toString('hex'),
  memory: fetcher.memory,
  // VmHWM, not resourceUsage().maxRSS: ru_maxrss survives the exec of a spawn and would
  // report the test process's own peak if that was higher.
  maxRssKiB: Number(/^VmHWM:\\s+(\\d+)\\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]),
  reasons,
  byPeer,
}));
process.exit(0);
`;

interface ChildReport {
  infoHash: string;
  memory: { peakAssemblyBytes: number; candidateSizes: number[] } | undefined;
  maxRssKiB: number;
  reasons: Record<string, number>;
  /** Each peer's first disconnect reason, by "host:port". */
  byPeer: Record<string, string>;
}

test('metadata flood: 100 peers claiming sizes near 8 MiB and pushing unrequested blocks; honest metadata wins in bounded memory', {
  timeout: 90_000,
}, async (t) => {
  // The honest metadata: a small info dictionary (a few blocks).
  const data = randomBytes(16 * 1024 * 600);
  const info = encode({
    name: 'flood.bin',
    'piece length': 16 * 1024,
    pieces: pieceHashesOf(data, 16 * 1024),
    length: data.length,
  });
  const infoHash = createHash('sha1').update(info).digest();
  const peers: ScriptedPeer[] = [];
  const pushers = new Set<string>();
  t.after(() => Promise.all(peers.map((peer) => peer.close())));
  for (let i = 0; i < HOSTILE_PEERS; i++) {
    const host = `127.0.${10 + Math.floor(i / 200)}.${1 + (i % 200)}`;
    const peer = await startHostile(host, infoHash, MAX_METADATA_SIZE - 1 - i, i % 2 === 0);
    peers.push(peer);
    if (i % 2 === 0) pushers.add(`${peer.host}:${peer.port}`);
  }
  const honest = await startScriptedPeer({ host: '127.0.9.1', infoHash, metadata: info });
  peers.push(honest);
  // The honest peer is listed in the middle: about 25 garbage sizes are tried before it.
  const addresses = peers.map((peer) => ({ host: peer.host, port: peer.port }));
  const honestAddress = addresses.pop()!;
  addresses.splice(HOSTILE_PEERS / 2, 0, honestAddress);

  const started = Date.now();
  const { code, stdout, stderr } = await runNodeChild(
    t,
    [
      '--input-type=module',
      '-e',
      CHILD,
      new URL('../../src/session/metadata-fetcher.js', import.meta.url).href,
      new URL('../../src/metainfo/index.js', import.meta.url).href,
      new URL('../../src/wire/index.js', import.meta.url).href,
    ],
    {
      FLOOD_MAGNET: `magnet:?xt=urn:btih:${infoHash.toString('hex')}`,
      FLOOD_PEERS: JSON.stringify(addresses),
    },
    { timeoutMs: 60_000, what: 'metadata fetch' },
  );
  assert.equal(code, 0, `the fetch failed: ${stderr}`);
  const report = JSON.parse(stdout) as ChildReport;
  t.diagnostic(
    `fetched in ${Date.now() - started} ms; peak RSS ${(report.maxRssKiB / 1024).toFixed(1)} MB; ` +
      `peak assembly ${report.memory?.peakAssemblyBytes} bytes; drops ${JSON.stringify(report.reasons)}`,
  );
  assert.equal(report.infoHash, infoHash.toString('hex'));
  assert.ok(report.memory !== undefined, 'the fetcher reports its assembly memory');
  assert.ok(
    report.memory.peakAssemblyBytes <= ASSEMBLY_BYTES_BOUND,
    `assembly bytes peaked at ${report.memory.peakAssemblyBytes} > ${ASSEMBLY_BYTES_BOUND}`,
  );
  assert.ok(
    report.maxRssKiB / 1024 < RSS_BOUND_MB,
    `peak RSS ${(report.maxRssKiB / 1024).toFixed(1)} MB >= ${RSS_BOUND_MB} MB`,
  );
  // Every pusher we connected to was dropped at its first unrequested block, whether its
  // size was being assembled or waiting: none got far enough to be caught as a liar.
  const pushed = Object.entries(report.byPeer).filter(([address]) => pushers.has(address));
  assert.ok(pushed.length > 0, 'pushers were connected');
  for (const [address, reason] of pushed) {
    assert.equal(reason, 'sent a metadata block we did not request', `pusher ${address}`);
  }
});
