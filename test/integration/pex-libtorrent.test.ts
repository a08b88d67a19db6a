/**
 * Peer exchange (BEP 11) with python3-libtorrent on loopback (issue 17): a Lodestone leecher is
 * given only peer A, a libtorrent peer with no data in upload mode (it can serve nothing), which
 * is connected to seeder B (libtorrent). Lodestone must learn B's address from A's ut_pex
 * message, dial it and download the torrent from it.
 *
 * And the other way: a libtorrent leecher given only a Lodestone seeder learns from Lodestone's
 * ut_pex message of the peer Lodestone dialled, and dials it (libtorrent says it learnt it by PEX).
 *
 * The leecher does not listen, so it tells A no listen port and A never lists it to B: B cannot
 * dial it, and every byte comes over the connection Lodestone dialled to the address PEX gave.
 * With CI=true a missing python3-libtorrent fails the test; locally it is skipped.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/session/client.js';
import type { PeerConnectedEvent, PeersLearnedEvent } from '../../src/session/event-types.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import { freePort, nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { makeClientDir, pollUntil, spawnManaged, waitListening } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const LT_PEER = fileURLToPath(new URL('../../../test/fixtures/pex/lt-pex-peer.py', import.meta.url));

interface LtStatus {
  /** Loaded and checked (libtorrent closes a handshake for a torrent it is still adding). */
  ready: boolean;
  is_seeding: boolean;
  progress: number;
  uploaded: number;
  peers: { ip: string; uploaded: number }[];
  /** Every peer ever connected, with libtorrent's peer_info.source bits (pex = 4). */
  seen: { ip: string; source: number }[];
}

const SOURCE_PEX = 4;

async function startLibtorrent(
  t: TestContext,
  f: PayloadFixture,
  mode: 'seed' | 'empty' | 'slow-leech',
  peer?: string,
) {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = await makeClientDir(`lt-pex-${mode}`);
  if (mode === 'seed') await writeFile(join(dir, 'payload.bin'), f.data);
  const proc = await spawnManaged({
    name: `libtorrent ${mode} peer`,
    command: LIBTORRENT_PYTHON,
    args: [LT_PEER, mode, f.torrentPath, dir, address, String(port), ...(peer ? [peer] : [])],
    dir,
  });
  t.after(() => proc.stop());
  const status = async (): Promise<LtStatus> => JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
  await pollUntil(proc, `libtorrent ${mode} peer to start`, 30_000, async () => {
    const s = await status().catch(() => undefined);
    return {
      done: s?.ready === true && (mode !== 'seed' || s.is_seeding),
      status: JSON.stringify(s),
    };
  });
  await waitListening(proc, address, port);
  return { proc, key: `${address}:${port}`, address, port, status };
}

/** `promise`, or a failure naming what did not happen once `ms` have passed. */
async function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

test('PEX: a Lodestone leecher given only a libtorrent peer with no data learns the seeder from it and downloads from it', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await payloadFixture(t, 3 * 1024 * 1024 + 4321, 'lodestone-pex-lt-');
  const seeder = await startLibtorrent(t, f, 'seed');
  const middle = await startLibtorrent(t, f, 'empty', seeder.key);
  await pollUntil(middle.proc, 'the empty peer to connect to the seeder', 20_000, async () => {
    const s = await middle.status();
    return { done: s.peers.some((p) => p.ip === seeder.key), status: JSON.stringify(s.peers) };
  });

  // No listen(): no listen port to tell, so nobody can be told to dial us.
  const client = new Client({ port: 0, bindAddress: nextLoopbackAddress(), hashWorkers: 1 });
  t.after(() => client.close());
  const outDir = join(f.root, 'leech');
  const session = client.add(f.meta, {
    path: outDir,
    useTrackers: false,
    trace: true,
    peers: [{ host: middle.address, port: middle.port }],
  });
  const learned: PeersLearnedEvent[] = [];
  const connected: PeerConnectedEvent[] = [];
  const pieceBytes = new Map<string, number>();
  session.on('peers-learned', (event) => learned.push(event));
  session.on('peer-connected', (event) => connected.push(event));
  session.on('wire', ({ peer, direction, message }) => {
    if (direction === 'in' && message.type === 'piece')
      pieceBytes.set(peer, (pieceBytes.get(peer) ?? 0) + message.block.length);
  });
  const done = once(session, 'done');
  const firstLearned = once(session, 'peers-learned');
  await session.start();
  // libtorrent sends its first ut_pex message a second after the extension handshake.
  await deadline(firstLearned, 10_000, 'no PEX message from the middle peer in 10 s');
  await deadline(done, 30_000, `not done 30 s after learning the seeder: ${JSON.stringify(session.stats())}`);

  assert.ok((await readFile(join(outDir, 'payload.bin'))).equals(f.data), 'byte-exact');
  assert.deepEqual(
    learned.map((e) => [e.source, e.from, e.addresses.includes(seeder.key)]),
    [['pex', middle.key, true]],
    'the seeder came from the middle peer’s ut_pex message',
  );
  assert.deepEqual(
    connected.map((e) => [e.address, e.direction]),
    [
      [middle.key, 'outbound'],
      [seeder.key, 'outbound'],
    ],
  );
  assert.ok((pieceBytes.get(seeder.key) ?? 0) >= f.data.length, `piece data by peer: ${[...pieceBytes]}`);
  assert.equal(pieceBytes.get(middle.key) ?? 0, 0, 'none from the middle peer');
  const stats = session.stats();
  assert.ok(stats.pexLearned >= 1);
  assert.equal(stats.downloadedBytes >= f.data.length, true);
  // libtorrent's own word: the middle peer sent no piece data; the seeder did.
  const middleStatus = await middle.status();
  assert.equal(middleStatus.uploaded, 0, 'the middle peer served nothing');
  await pollUntil(seeder.proc, 'the seeder to count its upload', 5_000, async () => {
    const s = await seeder.status();
    return { done: s.uploaded >= f.data.length, status: `uploaded ${s.uploaded}` };
  });
});

test('PEX: a libtorrent leecher given only a Lodestone seeder learns the peer Lodestone dialled from its ut_pex', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await payloadFixture(t, 3 * 1024 * 1024 + 1234, 'lodestone-pex-lt-out-');
  // The peer Lodestone knows: libtorrent with no data, never downloading, not dialling anyone.
  const other = await startLibtorrent(t, f, 'empty');
  const host = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1 });
  t.after(() => client.close());
  const port = await client.listen();
  const session = client.add(f.meta, {
    path: f.seedDir,
    seed: true,
    useTrackers: false,
    peers: [{ host: other.address, port: other.port }],
  });
  const connected: PeerConnectedEvent[] = [];
  session.on('peer-connected', (event) => connected.push(event));
  const t0 = Date.now();
  for (const name of ['peer-dial-failed', 'peer-disconnected', 'peer-connected', 'wire'] as const)
    session.on(name as 'peer-connected', (e: unknown) =>
      console.error(
        'EV',
        Date.now() - t0,
        name,
        JSON.stringify(e, (_k, v) =>
          v instanceof Error ? `${v.name}: ${v.message}` : typeof v === 'bigint' ? String(v) : v,
        )?.slice(0, 300),
      ),
    );
  const first = once(session, 'peer-connected');
  await session.start();
  await deadline(first, 10_000, 'Lodestone did not connect to the libtorrent peer');

  // The leecher (slowed to 256 KiB/s, so it is still dialling while it learns) knows only Lodestone.
  const leecher = await startLibtorrent(t, f, 'slow-leech', `${host}:${port}`);
  // Only Lodestone can tell the leecher of the other peer (a peer never lists itself). Both learn of each other from Lodestone in the same minute and either may dial first;
  // libtorrent marks the connection's peer entry with the PEX source bit either way.
  await pollUntil(leecher.proc, 'the leecher to meet the peer it learnt by PEX', 20_000, async () => {
    const s = await leecher.status();
    const entry = s.seen.find((p) => p.ip.startsWith(`${other.address}:`) && (p.source & SOURCE_PEX) !== 0);
    return { done: entry !== undefined, status: JSON.stringify(s.seen) };
  });
  assert.deepEqual(
    connected.map((e) => [e.address, e.direction]).filter(([address]) => address === other.key),
    [[other.key, 'outbound']],
    'Lodestone dialled the peer it then advertised',
  );
});
