/**
 * The DHT against python3-libtorrent on loopback (each node on its own 127.0.0.x; libtorrent's
 * loopback restrictions off: dht_restrict_routing_ips and the like). The network: R, a Lodestone
 * DHT node (a library client in this process, whose store we can read), and N, a libtorrent DHT
 * node joined through R (added as a node: libtorrent keeps no router in its table).
 * - a libtorrent seeder with no tracker announces through R; `lodestone download` of the magnet
 *   with only `xt`, bootstrapped on the libtorrent node N, finds it and downloads byte-exact.
 * - the reverse: `lodestone seed` with no tracker announces through R; a libtorrent leecher with
 *   only the info-hash, bootstrapped on N, finds it through the DHT and downloads byte-exact.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/session/client.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { payloadFixture } from '../helpers/payload-fixture.js';
import { freePort, nextLoopbackAddress } from '../helpers/real-clients/index.js';
import { makeClientDir, pollUntil, spawnManaged } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const LT_PEER = fileURLToPath(new URL('../../../test/fixtures/dht/lt-dht-peer.py', import.meta.url));
const SOURCE_DHT = 2;

interface LtStatus {
  dht_nodes: number;
  is_seeding?: boolean;
  progress?: number;
  seen?: { ip: string; source: number }[];
}

async function router(t: TestContext): Promise<{ client: Client; address: string }> {
  const host = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1, utp: false, dht: {} });
  t.after(() => client.close());
  await client.listen();
  return { client, address: `${host}:${client.dhtPort}` };
}

async function libtorrent(
  t: TestContext,
  mode: 'node' | 'seed' | 'leech',
  bootstrap: string,
  options: { dir?: string; target?: string } = {},
) {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = options.dir ?? (await makeClientDir(`lt-dht-${mode}`));
  const proc = await spawnManaged({
    name: `libtorrent DHT ${mode}`,
    command: LIBTORRENT_PYTHON,
    args: [LT_PEER, mode, address, String(port), dir, bootstrap, ...(options.target ? [options.target] : [])],
    dir,
  });
  t.after(() => proc.stop());
  const status = async (): Promise<LtStatus> => JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
  await pollUntil(proc, `libtorrent ${mode} in the DHT`, 20_000, async () => {
    const s = await status().catch(() => undefined);
    return { done: (s?.dht_nodes ?? 0) >= 1, status: JSON.stringify(s) };
  });
  return { proc, dir, address: `${address}:${port}`, status };
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('libtorrent seeds through the DHT only; lodestone download of an xt-only magnet finds it', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await payloadFixture(t, 1024 * 1024 + 777, 'lodestone-dht-lt-');
  const r = await router(t);
  const n = await libtorrent(t, 'node', r.address);
  await libtorrent(t, 'seed', r.address, { dir: f.seedDir, target: f.torrentPath });
  await waitUntil('libtorrent to announce to R', 40_000, () => (r.client.dhtStats?.storedPeers ?? 0) >= 1);

  const out = await makeClientDir('lodestone-dht-leech');
  const run = runCli([
    'download',
    `magnet:?xt=urn:btih:${f.meta.infoHashHex}`,
    ...['-o', out, '--bind', nextLoopbackAddress(), '--port', '0', '--json'],
    ...['--dht-bootstrap', n.address, '--state-dir', join(out, 'state'), '--metadata-timeout', '30s'],
  ]);
  t.after(() => run.stop());
  const exit = await run.exited;
  assert.equal(exit.code, 0, exit.stderr);
  assert.deepEqual(await readFile(join(out, 'payload.bin')), f.data);
  assert.ok(run.events.some((event) => event.type === 'dht' && Number(event.peersFound) >= 1));
});

test('lodestone seeds through the DHT only; a libtorrent leecher with only the info-hash finds it', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await payloadFixture(t, 1024 * 1024 + 555, 'lodestone-dht-lt-');
  const r = await router(t);
  const n = await libtorrent(t, 'node', r.address);
  const seeder = runCli([
    'seed',
    f.torrentPath,
    f.seedDir,
    ...['--bind', nextLoopbackAddress(), '--port', '0', '--json'],
    ...['--dht-bootstrap', r.address, '--state-dir', join(f.root, 'state')],
  ]);
  t.after(() => seeder.stop());
  await waitUntil('Lodestone to announce to R', 30_000, () => (r.client.dhtStats?.storedPeers ?? 0) >= 1);

  const leecher = await libtorrent(t, 'leech', n.address, { target: f.meta.infoHashHex });
  await pollUntil(leecher.proc, 'the libtorrent leecher to complete', 60_000, async () => {
    const s = await leecher.status();
    return { done: s.is_seeding === true, status: JSON.stringify(s) };
  });
  assert.deepEqual(await readFile(join(leecher.dir, 'payload.bin')), f.data);
  const s = await leecher.status();
  assert.ok(
    s.seen?.some((peer) => (peer.source & SOURCE_DHT) !== 0),
    `libtorrent found the seeder through the DHT: ${JSON.stringify(s.seen)}`,
  );
});
