/**
 * uTP over IPv6 on `::1` (issue 16):
 * - two Lodestone clients bound to `::1` (an IPv6 `bindAddress` opens an IPv6 UDP socket): the
 *   leecher dials the seeder over uTP, the seeder accepts it over uTP, byte-exact;
 * - two Lodestone clients at their defaults (`0.0.0.0` and `::`): dialling `[::1]` goes over uTP;
 * - python3-libtorrent uTP-only (TCP off both ways) listening on `[::1]` seeds to
 *   `lodestone download --bind ::1`: only uTP over IPv6 can carry it.
 * Skipped with a message when the machine has no IPv6 loopback. With CI=true a missing
 * python3-libtorrent fails the last test; locally it is skipped.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, type ClientOptions } from '../../src/session/client.js';
import type { PeerConnectedEvent } from '../../src/session/event-types.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import { makeClientDir, pollUntil, spawnManaged } from '../helpers/real-clients/process.js';
import { LIBTORRENT_PYTHON, requirePythonLibtorrent } from '../helpers/tools.js';

const LT_SWARM = fileURLToPath(new URL('../../../test/fixtures/utp/lt-swarm-peer.py', import.meta.url));

/** Whether a UDP socket can be bound on ::1 (a machine without IPv6 loopback cannot). */
async function hasIpv6Loopback(): Promise<boolean> {
  const socket = createSocket({ type: 'udp6', ipv6Only: true });
  try {
    socket.bind(0, '::1');
    await once(socket, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    socket.close();
  }
}
const IPV6 = await hasIpv6Loopback();

function requireIpv6(t: TestContext): boolean {
  if (!IPV6) t.skip('this machine has no IPv6 loopback (::1)');
  return IPV6;
}

/** A Lodestone seeder and leecher with `options`; the leecher dials the seeder at `[::1]`. */
async function transfer(t: TestContext, f: PayloadFixture, options: ClientOptions) {
  const seeder = new Client({ port: 0, hashWorkers: 1, ...options });
  t.after(() => seeder.close());
  const port = await seeder.listen();
  assert.equal(seeder.utpPort, port, 'UDP on the TCP port');
  const seeding = seeder.add(f.meta, { path: f.seedDir, seed: true, useTrackers: false });
  const seederEvents: PeerConnectedEvent[] = [];
  seeding.on('peer-connected', (event) => seederEvents.push(event));
  await seeding.start();

  const out = join(f.root, 'out');
  await mkdir(out);
  const leecher = new Client({ port: 0, hashWorkers: 1, ...options });
  t.after(() => leecher.close());
  await leecher.listen();
  const session = leecher.add(f.meta, {
    path: out,
    useTrackers: false,
    peers: [{ host: '::1', port }],
  });
  const leecherEvents: PeerConnectedEvent[] = [];
  session.on('peer-connected', (event) => leecherEvents.push(event));
  const done = once(session, 'done');
  await session.start();
  await done;
  assert.ok((await readFile(join(out, 'payload.bin'))).equals(f.data), 'byte-exact');
  return { port, seederEvents, leecherEvents };
}

describe('uTP over IPv6 (::1)', { timeout: 60_000 }, () => {
  test('two Lodestone clients bound to ::1: dialled and accepted over uTP', async (t) => {
    if (!requireIpv6(t)) return;
    const f = await payloadFixture(t, 1024 * 1024 + 17, 'lodestone-utp-ipv6-');
    const { port, seederEvents, leecherEvents } = await transfer(t, f, { bindAddress: '::1' });
    assert.deepEqual(
      leecherEvents.map((e) => [e.address, e.direction, e.transport]),
      [[`[::1]:${port}`, 'outbound', 'utp']],
    );
    assert.deepEqual(
      seederEvents.map((e) => [e.direction, e.transport]),
      [['inbound', 'utp']],
    );
  });

  test('two Lodestone clients at their defaults (0.0.0.0 and ::): [::1] is dialled over uTP', async (t) => {
    if (!requireIpv6(t)) return;
    const f = await payloadFixture(t, 512 * 1024 + 3, 'lodestone-utp-ipv6-');
    const { port, leecherEvents } = await transfer(t, f, {});
    assert.deepEqual(
      leecherEvents.map((e) => [e.address, e.transport]),
      [[`[::1]:${port}`, 'utp']],
    );
  });

  test('uTP-only libtorrent on [::1] seeds to `lodestone download --bind ::1`: byte-exact', async (t) => {
    if (!requireIpv6(t) || !requirePythonLibtorrent(t)) return;
    const f = await payloadFixture(t, 2 * 1024 * 1024 + 99, 'lodestone-utp-ipv6-lt-');
    const dir = await makeClientDir('lt-utp-ipv6-seed');
    await writeFile(join(dir, 'payload.bin'), f.data);
    // A port libtorrent takes for both TCP and UDP: let the kernel pick a UDP one on ::1.
    const probe = createSocket({ type: 'udp6', ipv6Only: true });
    probe.bind(0, '::1');
    await once(probe, 'listening');
    const ltPort = probe.address().port;
    probe.close();
    const proc = await spawnManaged({
      name: 'libtorrent seeder (uTP only, [::1])',
      command: LIBTORRENT_PYTHON,
      args: [LT_SWARM, 'seed', 'utp-only', f.torrentPath, dir, '[::1]', String(ltPort)],
      dir,
    });
    t.after(() => proc.stop());
    await pollUntil(proc, 'libtorrent to seed', 30_000, async () => {
      const s = await readFile(join(dir, 'status.json'), 'utf8')
        .then((text) => JSON.parse(text) as { is_seeding: boolean })
        .catch(() => undefined);
      return { done: s?.is_seeding === true, status: s ? 'checking' : 'starting' };
    });
    const out = join(f.root, 'out');
    await mkdir(out);
    const run = runCli([
      'download',
      f.torrentPath,
      '-o',
      out,
      '--peer',
      `[::1]:${ltPort}`,
      '--no-trackers',
      '--bind',
      '::1',
      '-p',
      '0',
      '--json',
    ]);
    t.after(() => run.stop());
    const end = await run.waitFor((e) => e.type === 'done' || e.type === 'error', 20_000);
    assert.equal(end.type, 'done', JSON.stringify(end));
    assert.ok((await readFile(join(out, 'payload.bin'))).equals(f.data), 'byte-exact');
    assert.deepEqual(
      run.events.filter((e) => e.type === 'peer-connected').map((e) => [e.address, e.transport]),
      [[`[::1]:${ltPort}`, 'utp']],
    );
  });
});
