/**
 * Protocol encryption against real clients on loopback:
 * - WebTorrent (the library) at its default settings (`secure` 1: every outgoing connection
 *   starts with an MSE handshake and never falls back) downloads from a Lodestone seeder at its
 *   default (`prefer`). Before MSE, Lodestone dropped its connections and it retried forever.
 * - python3-libtorrent with encryption forced (pe_forced both ways, RC4 only) ↔ Lodestone
 *   `encryption: 'require'`, both directions; libtorrent's peer_info says rc4_encrypted.
 * - Transmission and aria2 requiring encryption ↔ Lodestone `require`, both directions.
 * - The default-settings matrix: Transmission, qBittorrent and aria2 at their own defaults ↔
 *   Lodestone at its defaults, both directions (RC4 with the first two; aria2 picks plaintext).
 * With CI=true a missing client fails the test; locally it is skipped.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '../../src/session/client.js';
import type { PeerConnectedEvent } from '../../src/session/event-types.js';
import { type PayloadFixture, payloadFixture } from '../helpers/payload-fixture.js';
import {
  freePort,
  nextLoopbackAddress,
  type RealClientHandle,
  startAria2Leecher,
  startAria2Seeder,
  startQbittorrentLeecher,
  startQbittorrentSeeder,
  startTransmissionLeecher,
  startTransmissionSeeder,
} from '../helpers/real-clients/index.js';
import { makeClientDir, pollUntil, spawnManaged, waitListening } from '../helpers/real-clients/process.js';
import { isCI, LIBTORRENT_PYTHON, requirePythonLibtorrent, requireTool } from '../helpers/tools.js';
import {
  startWebTorrentLeecher,
  startWebTorrentSeeder,
  webtorrentAvailable,
} from '../helpers/webtorrent/index.js';

const LT_PEER = fileURLToPath(new URL('../../../test/fixtures/mse/lt-peer.py', import.meta.url));

type Fixture = PayloadFixture;

function fixture(t: TestContext, size: number): Promise<Fixture> {
  return payloadFixture(t, size, 'lodestone-mse-real-');
}

async function lodestoneSeeder(
  t: TestContext,
  f: Fixture,
  encryption: 'prefer' | 'require',
): Promise<{ address: string; port: number; events: PeerConnectedEvent[] }> {
  const address = nextLoopbackAddress();
  const client = new Client({ port: 0, bindAddress: address, hashWorkers: 1, encryption });
  t.after(() => client.close());
  const port = await client.listen();
  const session = client.add(f.meta, { path: f.seedDir, seed: true, useTrackers: false });
  const events: PeerConnectedEvent[] = [];
  session.on('peer-connected', (event) => events.push(event));
  await session.start();
  assert.equal(session.have.count, f.meta.pieceCount);
  return { address, port, events };
}

test('WebTorrent at its default settings (secure: MSE on every dial) downloads from a Lodestone seeder at its defaults', {
  timeout: 90_000,
}, async (t) => {
  if (!webtorrentAvailable()) {
    if (isCI()) throw new Error('webtorrent is required in CI');
    t.skip('webtorrent not installed');
    return;
  }
  const f = await fixture(t, 3 * 1024 * 1024 + 777);
  const seeder = await lodestoneSeeder(t, f, 'prefer');
  const outDir = join(f.root, 'out');
  const leecher = await startWebTorrentLeecher({
    torrentPath: f.torrentPath,
    outDir,
    peers: [`${seeder.address}:${seeder.port}`],
    encryption: 'default',
  });
  t.after(() => leecher.stop());
  await leecher.waitComplete(30_000);
  const downloaded = await readFile(join(outDir, 'payload.bin'));
  assert.ok(downloaded.equals(f.data), 'byte-exact');
  assert.ok(
    seeder.events.some((e) => e.direction === 'inbound' && e.encryption === 'rc4'),
    `WebTorrent came in over MSE with RC4: ${JSON.stringify(seeder.events)}`,
  );
});

test('a Lodestone leecher at its defaults downloads from a WebTorrent seeder at its defaults (plaintext, as it answers)', {
  timeout: 90_000,
}, async (t) => {
  if (!webtorrentAvailable()) {
    if (isCI()) throw new Error('webtorrent is required in CI');
    t.skip('webtorrent not installed');
    return;
  }
  const f = await fixture(t, 3 * 1024 * 1024 + 333);
  const seeder = await startWebTorrentSeeder({
    torrentPath: f.torrentPath,
    dataDir: f.seedDir,
    encryption: 'default',
  });
  t.after(() => seeder.stop());
  await verified(seeder);
  // Lodestone dials with MSE first; the connection WebTorrent ends up serving is plaintext.
  await leechFrom(t, f, seeder, 'webtorrent-defaults', 'prefer', 'plain');
});

interface LtStatus {
  is_seeding: boolean;
  progress: number;
  peers: { ip: string; rc4: boolean }[];
  seen: { ip: string; rc4: boolean }[];
}

async function startLibtorrent(t: TestContext, f: Fixture, mode: 'seed' | 'leech', peer?: string) {
  const address = nextLoopbackAddress();
  const port = await freePort(address);
  const dir = await makeClientDir(`lt-mse-${mode}`);
  if (mode === 'seed') await writeFile(join(dir, 'payload.bin'), f.data);
  const proc = await spawnManaged({
    name: `libtorrent ${mode}er (encryption forced)`,
    command: LIBTORRENT_PYTHON,
    args: [LT_PEER, mode, f.torrentPath, dir, address, String(port), ...(peer ? [peer] : [])],
    dir,
  });
  t.after(() => proc.stop());
  const status = async (): Promise<LtStatus> => JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
  return { proc, address, port, dir, status };
}

test('libtorrent with encryption forced downloads from Lodestone --encryption require (RC4)', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await fixture(t, 2 * 1024 * 1024 + 99);
  const seeder = await lodestoneSeeder(t, f, 'require');
  const lt = await startLibtorrent(t, f, 'leech', `${seeder.address}:${seeder.port}`);
  let sawRc4 = false;
  await pollUntil(lt.proc, 'libtorrent to finish downloading', 60_000, async () => {
    const s = await lt.status();
    sawRc4 ||= s.seen.some((p) => p.ip.startsWith(`${seeder.address}:`) && p.rc4);
    return {
      done: s.is_seeding,
      status: `${(s.progress * 100).toFixed(0)}%, peers ${JSON.stringify(s.peers)}`,
    };
  });
  assert.ok((await readFile(join(lt.dir, 'payload.bin'))).equals(f.data), 'byte-exact');
  assert.ok(sawRc4, 'libtorrent reports the connection to Lodestone as rc4_encrypted');
  assert.deepEqual(
    seeder.events.map((e) => [e.direction, e.encryption]),
    [['inbound', 'rc4']],
  );
});

test('Lodestone --encryption require downloads from libtorrent with encryption forced (RC4)', {
  timeout: 90_000,
}, async (t) => {
  if (!requirePythonLibtorrent(t)) return;
  const f = await fixture(t, 2 * 1024 * 1024 + 99);
  const lt = await startLibtorrent(t, f, 'seed');
  await pollUntil(lt.proc, 'libtorrent to seed', 60_000, async () => {
    const s = await lt.status();
    return { done: s.is_seeding, status: `${(s.progress * 100).toFixed(0)}%` };
  });
  await waitListening(lt.proc, lt.address, lt.port);
  const client = new Client({
    port: 0,
    bindAddress: nextLoopbackAddress(),
    hashWorkers: 1,
    encryption: 'require',
  });
  t.after(() => client.close());
  await client.listen();
  const outDir = join(f.root, 'leech');
  const session = client.add(f.meta, {
    path: outDir,
    useTrackers: false,
    peers: [{ host: lt.address, port: lt.port }],
  });
  const events: PeerConnectedEvent[] = [];
  session.on('peer-connected', (event) => {
    events.push(event);
  });
  const done = once(session, 'done');
  await session.start();
  await done;
  assert.ok((await readFile(join(outDir, 'payload.bin'))).equals(f.data), 'byte-exact');
  assert.deepEqual(
    events.map((e) => [e.direction, e.encryption]),
    [['outbound', 'rc4']],
  );
  // libtorrent's own word for it.
  await pollUntil(lt.proc, 'libtorrent to list the connection', 10_000, async () => {
    const s = await lt.status();
    return { done: s.seen.some((p) => p.rc4), status: JSON.stringify(s.seen) };
  });
});

const ARIA2_REQUIRE = ['--bt-require-crypto=true', '--bt-min-crypto-level=arc4'];

/** Not waitSeeding: its readiness probe is a plaintext handshake, which a client requiring encryption refuses. */
async function verified(client: RealClientHandle): Promise<void> {
  for (let i = 0; ; i++) {
    const progress = await client.progress().catch(() => ({ completedBytes: 0, totalBytes: 1 }));
    if (progress.totalBytes > 0 && progress.completedBytes === progress.totalBytes) return;
    assert.ok(i < 300, `${client.name} verified its data within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A Lodestone leecher (requiring encryption, or at `encryption`) downloads from `seeder` by dialling it. */
async function leechFrom(
  t: TestContext,
  f: Fixture,
  seeder: RealClientHandle,
  name: string,
  encryption: 'require' | 'prefer' = 'require',
  expected: 'rc4' | 'plain' = 'rc4',
): Promise<void> {
  const client = new Client({ port: 0, bindAddress: nextLoopbackAddress(), hashWorkers: 1, encryption });
  t.after(() => client.close());
  await client.listen();
  const outDir = join(f.root, `from-${name}`);
  const session = client.add(f.meta, {
    path: outDir,
    useTrackers: false,
    peers: [{ host: seeder.address, port: seeder.port }],
  });
  const events: PeerConnectedEvent[] = [];
  session.on('peer-connected', (event) => events.push(event));
  const done = once(session, 'done');
  await session.start();
  await done;
  assert.ok((await readFile(join(outDir, 'payload.bin'))).equals(f.data), `byte-exact from ${name}`);
  assert.ok(
    events.length > 0 && events.every((e) => e.direction === 'outbound' && e.encryption === expected),
    JSON.stringify(events),
  );
}

/** A Lodestone seeder (requiring encryption, or at `encryption`) dials `leecher`, which downloads into `outDir`. */
async function seedTo(
  t: TestContext,
  f: Fixture,
  leecher: RealClientHandle,
  outDir: string,
  encryption: 'require' | 'prefer' = 'require',
  expected: 'rc4' | 'plain' = 'rc4',
): Promise<void> {
  const client = new Client({ port: 0, bindAddress: nextLoopbackAddress(), hashWorkers: 1, encryption });
  t.after(() => client.close());
  await client.listen();
  const seeding = client.add(f.meta, {
    path: f.seedDir,
    seed: true,
    useTrackers: false,
    peers: [{ host: leecher.address, port: leecher.port }],
  });
  const events: PeerConnectedEvent[] = [];
  seeding.on('peer-connected', (event) => events.push(event));
  await seeding.start();
  await leecher.waitComplete!(60_000);
  assert.ok((await readFile(join(outDir, 'payload.bin'))).equals(f.data), `byte-exact to ${leecher.name}`);
  assert.ok(
    events.some((e) => e.direction === 'outbound' && e.encryption === expected),
    JSON.stringify(events),
  );
}

interface BothWaysCase {
  name: string;
  tool: string;
  /** The client's settings for this case (empty: its defaults). */
  settings: string;
  startSeeder(placement: {
    torrentPath: string;
    dataDir: string;
    address: string;
  }): Promise<RealClientHandle>;
  startLeecher(placement: {
    torrentPath: string;
    outDir: string;
    address: string;
  }): Promise<RealClientHandle>;
  lodestone: 'require' | 'prefer';
  expected: 'rc4' | 'plain';
}

/**
 * The client seeds to a Lodestone leecher, then leeches from a Lodestone seeder. Lodestone dials
 * in both directions: Transmission never dials loopback peers (docs/interop.md), and aria2 has no
 * option to dial a given peer.
 */
function bothWays(c: BothWaysCase): void {
  test(`${c.name} ↔ Lodestone --encryption ${c.lodestone}, both directions (${c.expected})`, {
    timeout: 100_000,
  }, async (t) => {
    if (!requireTool(t, c.tool)) return;
    const f = await fixture(t, 2 * 1024 * 1024 + 5);
    const seeder = await c.startSeeder({
      torrentPath: f.torrentPath,
      dataDir: f.seedDir,
      address: nextLoopbackAddress(),
    });
    t.after(() => seeder.stop());
    await verified(seeder);
    await leechFrom(t, f, seeder, `${c.tool}-${c.settings}`, c.lodestone, c.expected);
    const outDir = join(f.root, `${c.tool}-${c.settings}-out`);
    const leecher = await c.startLeecher({
      torrentPath: f.torrentPath,
      outDir,
      address: nextLoopbackAddress(),
    });
    t.after(() => leecher.stop());
    await seedTo(t, f, leecher, outDir, c.lodestone, c.expected);
  });
}

const TRANSMISSION_REQUIRE = { encryption: 2 };
bothWays({
  name: 'Transmission requiring encryption (encryption: 2)',
  tool: 'transmission-daemon',
  settings: 'require',
  startSeeder: (p) => startTransmissionSeeder({ ...p, extraSettings: TRANSMISSION_REQUIRE }),
  startLeecher: (p) => startTransmissionLeecher({ ...p, extraSettings: TRANSMISSION_REQUIRE }),
  lodestone: 'require',
  expected: 'rc4',
});
bothWays({
  name: 'aria2 requiring encryption (arc4)',
  tool: 'aria2c',
  settings: 'require',
  startSeeder: (p) => startAria2Seeder({ ...p, extraArgs: ARIA2_REQUIRE }),
  startLeecher: (p) => startAria2Leecher({ ...p, extraArgs: ARIA2_REQUIRE }),
  lodestone: 'require',
  expected: 'rc4',
});

/*
 * The default-settings matrix (issue 16): each client at its own defaults for encryption and uTP
 * (only what would leave the machine stays off: DHT, LSD, PEX, UPnP/NAT-PMP), Lodestone at its
 * defaults (`prefer`), so its first way in is MSE.
 */
const TRANSMISSION_DEFAULTS = { encryption: 1, 'utp-enabled': true };
bothWays({
  name: 'Transmission at its defaults (encryption preferred, uTP on)',
  tool: 'transmission-daemon',
  settings: 'defaults',
  startSeeder: (p) => startTransmissionSeeder({ ...p, extraSettings: TRANSMISSION_DEFAULTS }),
  startLeecher: (p) => startTransmissionLeecher({ ...p, extraSettings: TRANSMISSION_DEFAULTS }),
  lodestone: 'prefer',
  expected: 'rc4',
});
const QBITTORRENT_DEFAULTS = { BitTorrent: ['Session\\Encryption=0', 'Session\\BTProtocol=Both'] };
bothWays({
  name: 'qBittorrent at its defaults (encryption allowed, TCP and uTP)',
  tool: 'qbittorrent-nox',
  settings: 'defaults',
  startSeeder: (p) => startQbittorrentSeeder({ ...p, extraConfig: QBITTORRENT_DEFAULTS }),
  startLeecher: (p) => startQbittorrentLeecher({ ...p, extraConfig: QBITTORRENT_DEFAULTS }),
  lodestone: 'prefer',
  expected: 'rc4',
});
// aria2 answers our MSE handshake choosing plaintext: its minimum crypto level is plain by default.
bothWays({
  name: 'aria2 at its defaults',
  tool: 'aria2c',
  settings: 'defaults',
  startSeeder: (p) => startAria2Seeder(p),
  startLeecher: (p) => startAria2Leecher(p),
  lodestone: 'prefer',
  expected: 'plain',
});
