/**
 * The DHT end to end on loopback, Lodestone only (each node on its own 127.0.0.x):
 * - a `lodestone seed` with no tracker joins a DHT of one Lodestone node (a library Client in
 *   this process) and announces; `lodestone download "magnet:?xt=urn:btih:…"` (no tracker, no
 *   x.pe) bootstrapped on that node finds it through get_peers and downloads byte-exact.
 * - the state file: the leecher's routing table is saved at exit and loaded on the next run,
 *   which needs no bootstrap node any more; a corrupted file is ignored with a one-line warning.
 * - `--no-dht` sends no KRPC: a UDP listener given as bootstrap receives nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { decodeDhtState } from '../../src/dht/state.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { type CliRun, runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** One Lodestone DHT node (a library client with the DHT on and no torrent): the network's entry. */
async function dhtNode(t: TestContext): Promise<{ client: Client; address: string }> {
  const host = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1, utp: false, dht: {} });
  t.after(() => client.close());
  await client.listen();
  assert.ok(client.dhtPort > 0);
  return { client, address: `${host}:${client.dhtPort}` };
}

/** A tracker-less torrent of random data, written to `dir/dht.bin`. */
async function content(dir: string): Promise<{ data: Buffer; torrentPath: string; magnet: string }> {
  const data = randomBytes(300 * 1024 + 123);
  await writeFile(join(dir, 'dht.bin'), data);
  const torrent = encode({
    info: { name: 'dht.bin', 'piece length': 32768, pieces: pieceHashesOf(data, 32768), length: data.length },
  });
  const torrentPath = join(dir, 'dht.torrent');
  await writeFile(torrentPath, torrent);
  return { data, torrentPath, magnet: `magnet:?xt=urn:btih:${parseTorrent(torrent).infoHashHex}` };
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stopAfter(t: TestContext, run: CliRun): CliRun {
  t.after(() => run.stop());
  return run;
}

test('a magnet with only xt downloads through the DHT (Lodestone seeder, node, leecher)', {
  timeout: 60_000,
}, async (t) => {
  const router = await dhtNode(t);
  const seedDir = await tempDir(t, 'lodestone-dht-seed-');
  const { data, torrentPath, magnet } = await content(seedDir);
  const seeder = stopAfter(
    t,
    runCli([
      'seed',
      torrentPath,
      seedDir,
      '--bind',
      nextLoopbackAddress(),
      '--port',
      '0',
      '--json',
      '--dht-bootstrap',
      router.address,
      '--state-dir',
      join(seedDir, 'state'),
    ]),
  );
  await seeder.waitFor((event) => event.type === 'dht-ready', 20_000);
  // The seeder announced to the only node it knows: that node now stores one peer.
  await waitUntil('the announce', 20_000, () => (router.client.dhtStats?.storedPeers ?? 0) >= 1);

  const leechDir = await tempDir(t, 'lodestone-dht-leech-');
  const leecher = stopAfter(
    t,
    runCli([
      'download',
      magnet,
      '-o',
      leechDir,
      '--bind',
      nextLoopbackAddress(),
      '--port',
      '0',
      '--json',
      '--dht-bootstrap',
      router.address,
      '--state-dir',
      join(leechDir, 'state'),
      '--metadata-timeout',
      '20s',
      '--verbose',
    ]),
  );
  const { code, stderr } = await leecher.exited;
  assert.equal(code, 0, stderr);
  assert.match(
    stderr,
    /dht: \d+ nodes \(\d+ good\), \d+ lookups, [1-9]\d* peers found/,
    '--verbose shows the DHT counters',
  );
  assert.ok(
    leecher.events.some((event) => event.type === 'dht' && Number(event.peersFound) >= 1),
    'the seeder came from the DHT',
  );
  assert.deepEqual(await readFile(join(leechDir, 'dht.bin')), data);
  // The routing table was saved at exit, with the node it learned.
  const saved = decodeDhtState(await readFile(join(leechDir, 'state', 'dht.dat')));
  assert.ok(saved.nodes.length >= 1, 'the table was saved');

  // `lodestone metadata` of the same xt-only magnet finds it the same way.
  const written = join(leechDir, 'fetched.torrent');
  const metadata = stopAfter(
    t,
    runCli([
      'metadata',
      magnet,
      ...['-o', written, '--bind', nextLoopbackAddress(), '--port', '0', '--json'],
      ...[
        '--dht-bootstrap',
        router.address,
        '--state-dir',
        join(leechDir, 'state2'),
        '--metadata-timeout',
        '20s',
      ],
    ]),
  );
  const fetched = await metadata.exited;
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.equal(parseTorrent(await readFile(written)).infoHashHex, magnet.slice(-40));
});

/** A `lodestone seed` with no tracker, in the DHT through `router`; resolves once it announced there. */
async function dhtSeeder(
  t: TestContext,
  router: { client: Client; address: string },
): Promise<{ data: Buffer; torrentPath: string; magnet: string; address: string }> {
  const seedDir = await tempDir(t, 'lodestone-dht-seed-');
  const made = await content(seedDir);
  const host = nextLoopbackAddress();
  const seeder = stopAfter(
    t,
    runCli([
      'seed',
      made.torrentPath,
      seedDir,
      ...['--bind', host, '--port', '0', '--json'],
      ...['--dht-bootstrap', router.address, '--state-dir', join(seedDir, 'state')],
    ]),
  );
  const start = await seeder.waitFor((event) => event.type === 'start', 20_000);
  const before = router.client.dhtStats?.storedPeers ?? 0;
  await waitUntil('the announce', 20_000, () => (router.client.dhtStats?.storedPeers ?? 0) > before);
  return { ...made, address: `${host}:${start.port}` };
}

/** A UDP socket on loopback that counts what it receives and never answers. */
async function silentUdp(t: TestContext): Promise<{ address: string; received: () => number }> {
  const host = nextLoopbackAddress();
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  t.after(() => socket.close());
  return { address: `${host}:${socket.address().port}`, received: () => count };
}

test('the routing table is saved and loaded: the next run needs no bootstrap node; a corrupt file is ignored', {
  timeout: 90_000,
}, async (t) => {
  const router = await dhtNode(t);
  const { data, magnet } = await dhtSeeder(t, router);
  const stateDir = await tempDir(t, 'lodestone-dht-state-');
  const download = async (bootstrap: string) => {
    const dir = await tempDir(t, 'lodestone-dht-leech-');
    const run = stopAfter(
      t,
      runCli([
        'download',
        magnet,
        ...['-o', dir, '--bind', nextLoopbackAddress(), '--port', '0', '--json'],
        ...['--dht-bootstrap', bootstrap, '--state-dir', stateDir, '--metadata-timeout', '20s'],
      ]),
    );
    const exit = await run.exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(await readFile(join(dir, 'dht.bin')), data);
    return { run, stderr: exit.stderr };
  };
  await download(router.address);
  const first = decodeDhtState(await readFile(join(stateDir, 'dht.dat')));
  assert.ok(
    first.nodes.some((node) => `${node.host}:${node.port}` === router.address),
    'the router is in the saved table',
  );

  // Second run: the configured bootstrap node is dead (it never answers); the saved table is enough.
  const dead = await silentUdp(t);
  await download(dead.address);
  const second = decodeDhtState(await readFile(join(stateDir, 'dht.dat')));
  assert.deepEqual(second.id, first.id, 'the node id is kept');
  assert.ok(dead.received() >= 1, 'the configured node was asked too');

  // A corrupt file: one warning line, an empty table (the configured node again), a valid file at exit.
  await writeFile(join(stateDir, 'dht.dat'), 'd2:id3:abce');
  const { run, stderr } = await download(router.address);
  const warnings = stderr.split('\n').filter((line) => line.includes('ignoring the saved DHT state'));
  assert.equal(warnings.length, 1, stderr);
  assert.ok(run.events.some((event) => event.type === 'dht-warning'));
  assert.ok(decodeDhtState(await readFile(join(stateDir, 'dht.dat'))).nodes.length >= 1);
});

test('--no-dht sends no KRPC (the same run without it does)', { timeout: 60_000 }, async (t) => {
  const router = await dhtNode(t);
  const { data, torrentPath, address } = await dhtSeeder(t, router);
  for (const dht of [false, true]) {
    const listener = await silentUdp(t);
    const dir = await tempDir(t, 'lodestone-dht-leech-');
    const run = stopAfter(
      t,
      runCli([
        'download',
        torrentPath,
        ...['-o', dir, '--bind', nextLoopbackAddress(), '--port', '0', '--json', '--peer', address],
        ...['--dht-bootstrap', listener.address, '--state-dir', join(dir, 'state')],
        ...(dht ? [] : ['--no-dht']),
      ]),
    );
    const exit = await run.exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.deepEqual(await readFile(join(dir, 'dht.bin')), data);
    if (dht) assert.ok(listener.received() >= 1, 'with the DHT on, the bootstrap node is queried');
    else {
      // A datagram sent before exit has arrived by now on loopback; give it a moment anyway.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(listener.received(), 0, 'no KRPC with --no-dht');
      assert.ok(!run.events.some((event) => event.type === 'dht-ready'));
    }
  }
});
