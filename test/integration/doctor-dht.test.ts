/**
 * `lodestone doctor` with the DHT as a source, on loopback (each node on its own 127.0.0.x; the
 * doctor always gets a loopback `--dht-bootstrap`, never the public routers):
 * - a magnet with only `xt` whose one seeder is reachable only through the DHT: healthy, exit 0,
 *   the DHT source lists the seeder, the peer is labelled `DHT`.
 * - a magnet with only `xt` bootstrapped on a closed UDP port: the verdict names the DHT having
 *   reached no node, exit 6, well within --time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Client } from '../../src/session/client.js';
import type { DoctorReport } from '../../src/session/doctor-report.js';
import type { DoctorVerdict } from '../../src/session/doctor-verdict.js';
import { type CliEvent, runCli } from '../helpers/lodestone-cli.js';
import { singleFileTorrent, startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

type DoctorJson = CliEvent & DoctorReport & { verdict: DoctorVerdict };

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-doctor-dht-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function doctor(
  t: TestContext,
  args: string[],
): Promise<{
  code: number | null;
  stdout: string;
  stderr: string;
  report: DoctorJson | undefined;
  ms: number;
}> {
  const started = Date.now();
  const run = runCli(['doctor', ...args]);
  t.after(() => run.stop());
  const { code, stdout, stderr } = await run.exited;
  const report = run.events.find((e) => e.type === 'doctor') as DoctorJson | undefined;
  return { code, stdout, stderr, report, ms: Date.now() - started };
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('doctor on a magnet with only xt, the seeder reachable only through the DHT: healthy, the DHT lists it', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  // The network's entry: a library client with the DHT on and no torrent.
  const routerHost = nextLoopbackAddress();
  const router = new Client({ port: 0, bindAddress: routerHost, hashWorkers: 1, utp: false, dht: {} });
  t.after(() => router.close());
  await router.listen();
  const routerAddress = `${routerHost}:${router.dhtPort}`;
  // A seeder with no tracker, in the DHT through the router: it announces there.
  const data = randomBytes(3 * 16384 + 7);
  const meta = singleFileTorrent('dht-doctor.bin', data, 16384);
  const seeder = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(dir, 'seed'),
    host: nextLoopbackAddress(),
    client: { dht: { bootstrap: [routerAddress] } },
  });
  t.after(() => seeder.client.close());
  await waitUntil('the announce', 20_000, () => (router.dhtStats?.storedPeers ?? 0) > 0);

  const magnet = `magnet:?xt=urn:btih:${meta.infoHashHex}`;
  const { code, stderr, report, ms } = await doctor(t, [
    magnet,
    '--json',
    ...['--time', '20s', '--bind', nextLoopbackAddress()],
    ...['--dht-bootstrap', routerAddress, '--state-dir', join(dir, 'state')],
  ]);
  assert.equal(code, 0, stderr);
  assert.ok(report, 'one JSON report');
  assert.equal(report.verdict.code, 'healthy', report.verdict.text);
  const dht = report.sources.find((s) => s.kind === 'dht');
  assert.equal(dht?.status, 'answered', JSON.stringify(dht));
  assert.equal(dht?.peers, 1);
  assert.ok((dht?.nodesReached ?? 0) >= 1, JSON.stringify(dht));
  assert.ok((dht?.queries ?? 0) >= (dht?.nodesReached ?? 0));
  assert.ok((dht?.rounds ?? 0) >= 1);
  const address = `${seeder.address.host}:${seeder.address.port}`;
  const peer = report.peers.find((p) => p.address === address);
  assert.deepEqual(peer?.sources, ['DHT'], JSON.stringify(report.peers));
  assert.equal(peer?.handshake, true);
  assert.equal(peer?.hasMetadata, true);
  assert.match(report.verdict.text, / The DHT found 1 peer \(\d+ nodes? reached\)\.$/);
  assert.ok(ms < 20_000, `ended before --time once everything was probed (${ms} ms)`);

  // The human report says the same.
  const human = await doctor(t, [
    magnet,
    ...['--time', '20s', '--bind', nextLoopbackAddress()],
    ...['--dht-bootstrap', routerAddress, '--state-dir', join(dir, 'state')],
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(
    human.stdout,
    /^ {2}DHT +found: 1 peer \(\d+ nodes? reached, \d+ quer(y|ies), \d+ rounds?\)$/m,
  );
  assert.match(human.stdout, /^ {2}PEX +1 peer offers PEX, no list came in time$/m);
});

test('doctor on a magnet with only xt and a bootstrap on a closed UDP port: the DHT reached no node, exit 6', {
  timeout: 60_000,
}, async (t) => {
  const dir = await scratch(t);
  const host = nextLoopbackAddress();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const closed = `${host}:${socket.address().port}`;
  await new Promise<void>((resolve) => socket.close(() => resolve()));

  const magnet = `magnet:?xt=urn:btih:${randomBytes(20).toString('hex')}`;
  const { code, stderr, stdout, report, ms } = await doctor(t, [
    magnet,
    '--json',
    ...['--time', '10s', '--bind', nextLoopbackAddress()],
    ...['--dht-bootstrap', closed, '--state-dir', join(dir, 'state')],
  ]);
  assert.equal(code, 6, `${stdout}\n${stderr}`);
  assert.ok(report, 'one JSON report');
  assert.equal(report.verdict.code, 'dht-failed', report.verdict.text);
  assert.match(
    report.verdict.text,
    /^There is no tracker to ask and the DHT reached no peer \(no node answered the bootstrap \(1 contact tried\)\)/,
  );
  assert.deepEqual(
    report.sources.map((s) => [s.kind, s.status]),
    [
      ['dht', 'failed'],
      ['pex', 'not-used'],
    ],
  );
  assert.equal(report.peers.length, 0);
  // The bootstrap query times out (2 s): the doctor ends then, not at --time.
  assert.ok(ms < 10_000, `ended within the bound (${ms} ms)`);
});
