/**
 * uTP in the client, against python3-libtorrent on loopback, through the `lodestone` command:
 * - libtorrent with TCP off both ways seeds to `lodestone download` and downloads from
 *   `lodestone seed` (so only uTP can carry it), byte-exact; both sides say uTP.
 * - libtorrent at its defaults (uTP and TCP, encryption enabled) ↔ Lodestone at its defaults,
 *   both directions, byte-exact; the transport and encryption used are checked and reported.
 * - `--no-utp` opens no UDP socket: a uTP SYN to its port is refused at once (ICMP port
 *   unreachable), where a default seeder answers it.
 * With CI=true a missing python3-libtorrent fails the test; locally it is skipped.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeUtpPacket, encodeUtpPacket } from '../../src/net/utp/packet.js';
import { Client } from '../../src/session/client.js';
import { type CliEvent, type CliRun, runCli } from '../helpers/lodestone-cli.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import { freePort, nextLoopbackAddress } from '../helpers/real-clients/net.js';
import { makeClientDir, pollUntil, spawnManaged } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const LT_PEER = fileURLToPath(new URL('../../../test/fixtures/utp/lt-swarm-peer.py', import.meta.url));
type Profile = 'utp-only' | 'defaults';

type Fixture = PayloadFixture;

function fixture(t: TestContext, size: number): Promise<Fixture> {
  return payloadFixture(t, size, 'lodestone-utp-session-');
}

interface LtPeerSeen {
  ip: string;
  utp: boolean;
  rc4: boolean;
  plaintext_encrypted: boolean;
  outgoing: boolean;
}
interface LtStatus {
  is_seeding: boolean;
  progress: number;
  peers: number;
  seen: LtPeerSeen[];
}

async function startLibtorrent(
  t: TestContext,
  f: Fixture,
  mode: 'seed' | 'leech',
  profile: Profile,
  peer?: string,
) {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = await makeClientDir(`lt-utp-${mode}`);
  if (mode === 'seed') await writeFile(join(dir, 'payload.bin'), f.data);
  const proc = await spawnManaged({
    name: `libtorrent ${mode}er (${profile})`,
    command: LIBTORRENT_PYTHON,
    args: [LT_PEER, mode, profile, f.torrentPath, dir, address, String(port), ...(peer ? [peer] : [])],
    dir,
  });
  t.after(() => proc.stop());
  const status = async (): Promise<LtStatus> => JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
  if (mode === 'seed')
    await pollUntil(proc, 'libtorrent to seed', 30_000, async () => {
      const s = await status().catch(() => undefined);
      return { done: s?.is_seeding === true, status: s ? `${(s.progress * 100).toFixed(0)}%` : 'starting' };
    });
  return { proc, address, port, dir, status };
}

/** `lodestone seed --json -v` on its own address (extra flags after); resolves once it seeds. */
async function lodestoneSeed(t: TestContext, f: Fixture, ...extra: string[]) {
  const host = nextLoopbackAddress();
  const run = runCli([
    'seed',
    f.torrentPath,
    f.seedDir,
    '--json',
    '-p',
    '0',
    '--bind',
    host,
    '--no-trackers',
    ...extra,
  ]);
  t.after(() => run.stop());
  const start = await run.waitFor((e) => e.type === 'start', 20_000);
  const seeding = await run.waitFor((e) => e.type === 'seeding' || e.type === 'error', 20_000);
  assert.equal(seeding.type, 'seeding', JSON.stringify(seeding));
  return { run, host, port: start.port as number, utpPort: start.utpPort as number };
}

/** `lodestone download --json` from one peer; resolves with the run once it is done. */
async function lodestoneDownload(
  t: TestContext,
  f: Fixture,
  peer: string,
): Promise<{ run: CliRun; out: string }> {
  const out = join(f.root, `download-${Math.random().toString(36).slice(2)}`);
  await mkdir(out);
  const run = runCli([
    'download',
    f.torrentPath,
    '-o',
    out,
    '--peer',
    peer,
    '--no-trackers',
    '--bind',
    nextLoopbackAddress(),
    '-p',
    '0',
    '--json',
  ]);
  t.after(() => run.stop());
  await run.waitFor((e) => e.type === 'done' || e.type === 'error', 30_000);
  // The command ends on its own once done: an open UDP socket left behind would keep it alive.
  const exit = await Promise.race([
    run.exited,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error('lodestone download did not exit within 10 s of done')),
        10_000,
      ).unref(),
    ),
  ]);
  assert.equal(exit.code, 0, exit.stderr.slice(-2000));
  return { run, out };
}

function connected(run: CliRun): CliEvent[] {
  return run.events.filter((e) => e.type === 'peer-connected');
}

/**
 * Sends one uTP SYN to host:port from a connected UDP socket: 'answered' when a uTP packet comes
 * back, 'refused' when the kernel reports the port closed (ICMP port unreachable). Settles at
 * once either way on loopback; 5 s is only the test's bound.
 */
function probeUtp(host: string, port: number): Promise<'answered' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => finish(new Error('no answer and no refusal within 5 s')), 5000);
    const finish = (result: 'answered' | 'refused' | Error): void => {
      clearTimeout(timer);
      socket.close();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish(error.code === 'ECONNREFUSED' ? 'refused' : error),
    );
    socket.on('message', (datagram) =>
      finish(decodeUtpPacket(datagram).ok ? 'answered' : new Error('not uTP')),
    );
    socket.bind(0, nextLoopbackAddress(), () =>
      socket.connect(port, host, () => {
        socket.send(
          encodeUtpPacket({
            type: 'syn',
            connectionId: 4242,
            timestamp: 0,
            timestampDiff: 0,
            windowSize: 1 << 20,
            seq: 1,
            ack: 0,
            payload: new Uint8Array(0),
          }),
        );
      }),
    );
  });
}

describe('uTP in the client against python3-libtorrent', { timeout: 100_000 }, () => {
  test('uTP-only libtorrent seeds to `lodestone download`: byte-exact, over uTP', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await fixture(t, 3 * 1024 * 1024 + 321);
    const lt = await startLibtorrent(t, f, 'seed', 'utp-only');
    const { run, out } = await lodestoneDownload(t, f, `${lt.address}:${lt.port}`);
    assert.ok((await readFile(join(out, 'payload.bin'))).equals(f.data), 'byte-exact');
    assert.deepEqual(
      connected(run).map((e) => [e.direction, e.transport]),
      [['outbound', 'utp']],
    );
    const seen = (await lt.status()).seen;
    assert.ok(seen.length > 0 && seen.every((p) => p.utp), `libtorrent's peers: ${JSON.stringify(seen)}`);
    t.diagnostic(`encryption: ${connected(run)[0]!.encryption}`);
  });

  test('uTP-only libtorrent downloads from `lodestone seed`: byte-exact, over uTP', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await fixture(t, 3 * 1024 * 1024 + 321);
    const seeder = await lodestoneSeed(t, f);
    assert.equal(seeder.utpPort, seeder.port, 'UDP on the TCP port');
    const lt = await startLibtorrent(t, f, 'leech', 'utp-only', `${seeder.host}:${seeder.port}`);
    await pollUntil(lt.proc, 'libtorrent to finish downloading', 30_000, async () => {
      const s = await lt.status().catch(() => undefined);
      return { done: s?.is_seeding === true, status: s ? `${(s.progress * 100).toFixed(0)}%` : 'starting' };
    });
    assert.ok((await readFile(join(lt.dir, 'payload.bin'))).equals(f.data), 'byte-exact');
    const seen = (await lt.status()).seen;
    assert.ok(seen.length > 0 && seen.every((p) => p.utp), `libtorrent's peers: ${JSON.stringify(seen)}`);
    const events = connected(seeder.run);
    assert.deepEqual(
      events.map((e) => [e.direction, e.transport]),
      [['inbound', 'utp']],
    );
  });

  test('libtorrent at its defaults seeds to Lodestone at its defaults: uTP preferred', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await fixture(t, 3 * 1024 * 1024 + 321);
    const lt = await startLibtorrent(t, f, 'seed', 'defaults');
    const { run, out } = await lodestoneDownload(t, f, `${lt.address}:${lt.port}`);
    assert.ok((await readFile(join(out, 'payload.bin'))).equals(f.data), 'byte-exact');
    const events = connected(run);
    assert.deepEqual(
      events.map((e) => [e.direction, e.transport]),
      [['outbound', 'utp']],
    );
    const seen = (await lt.status()).seen;
    t.diagnostic(`Lodestone: ${JSON.stringify(events.map((e) => [e.transport, e.encryption]))}`);
    t.diagnostic(`libtorrent: ${JSON.stringify(seen)}`);
  });

  test('libtorrent at its defaults downloads from Lodestone at its defaults: it dials uTP', async (t) => {
    if (!requirePythonLibtorrent(t)) return;
    const f = await fixture(t, 3 * 1024 * 1024 + 321);
    const seeder = await lodestoneSeed(t, f);
    const lt = await startLibtorrent(t, f, 'leech', 'defaults', `${seeder.host}:${seeder.port}`);
    await pollUntil(lt.proc, 'libtorrent to finish downloading', 30_000, async () => {
      const s = await lt.status().catch(() => undefined);
      return { done: s?.is_seeding === true, status: s ? `${(s.progress * 100).toFixed(0)}%` : 'starting' };
    });
    assert.ok((await readFile(join(lt.dir, 'payload.bin'))).equals(f.data), 'byte-exact');
    const events = connected(seeder.run);
    assert.ok(events.length > 0);
    assert.ok(
      events.every((e) => e.direction === 'inbound' && e.transport === 'utp'),
      JSON.stringify(events),
    );
    t.diagnostic(`Lodestone: ${JSON.stringify(events.map((e) => [e.transport, e.encryption]))}`);
    t.diagnostic(`libtorrent: ${JSON.stringify((await lt.status()).seen)}`);
  });
});

describe('--no-utp', { timeout: 60_000 }, () => {
  test('Client: the UDP socket is on the listener port and is closed by close(); utp: false opens none', async (t) => {
    const host = nextLoopbackAddress();
    const client = new Client({ port: 0, bindAddress: host, hashWorkers: 1 });
    const port = await client.listen();
    assert.equal(client.utpPort, port);
    assert.equal(await probeUtp(host, port), 'answered');
    await client.close();
    assert.equal(client.utpPort, 0);
    assert.equal(await probeUtp(host, port), 'refused');
    const tcpOnly = new Client({ port: 0, bindAddress: host, hashWorkers: 1, utp: false });
    const tcpPort = await tcpOnly.listen();
    t.after(() => tcpOnly.close());
    assert.equal(tcpOnly.utpPort, 0);
    assert.equal(await probeUtp(host, tcpPort), 'refused');
  });

  test('a default seeder answers a uTP SYN on its port; with --no-utp the port is refused at once', async (t) => {
    const f = await fixture(t, 200 * 1024);
    const on = await lodestoneSeed(t, f);
    assert.equal(on.utpPort, on.port);
    assert.equal(await probeUtp(on.host, on.port), 'answered');
    const off = await lodestoneSeed(t, f, '--no-utp');
    assert.equal(off.utpPort, 0, 'the start event says no UDP socket');
    assert.equal(await probeUtp(off.host, off.port), 'refused');
  });
});
