/**
 * Protocol encryption between two Lodestone clients on loopback: RC4 both ways with the bytes
 * on the wire recorded by a relay (no "BitTorrent protocol", no piece data in the clear), and
 * `prefer` falling back to plaintext against a peer that refuses encryption.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import type { EncryptionPolicy } from '../../src/net/mse/policy.js';
import { Client } from '../../src/session/client.js';
import type { PeerConnectedEvent } from '../../src/session/event-types.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { freePort } from '../helpers/real-clients/index.js';

const PIECE = 32 * 1024;

/** A TCP relay on 127.0.0.4 that forwards to `target` and records every byte, both directions. */
async function recordingRelay(
  targetPort: number,
): Promise<{ port: number; recorded: Buffer[]; close: () => void }> {
  const recorded: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((incoming) => {
    const outgoing = connect({ host: '127.0.0.2', port: targetPort });
    for (const [from, to] of [
      [incoming, outgoing],
      [outgoing, incoming],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        recorded.push(Buffer.from(chunk));
        to.write(chunk);
      });
      from.on('error', () => undefined);
      from.on('close', () => to.destroy());
    }
  });
  server.listen(0, '127.0.0.4');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    recorded,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

async function transfer(
  t: import('node:test').TestContext,
  seederPolicy: EncryptionPolicy,
  leecherPolicy: EncryptionPolicy,
  viaRelay: boolean,
): Promise<{
  data: Buffer;
  recorded: Buffer[];
  seederEvents: PeerConnectedEvent[];
  leecherEvents: PeerConnectedEvent[];
}> {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-mse-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const data = randomBytes(1_000_003);
  const meta = parseTorrent(
    encode({
      info: {
        name: 'secret.bin',
        'piece length': PIECE,
        pieces: pieceHashesOf(data, PIECE),
        length: data.length,
      },
    }),
  );
  await mkdir(join(root, 'seed'), { recursive: true });
  await writeFile(join(root, 'seed', 'secret.bin'), data);
  const seeder = new Client({ port: 0, bindAddress: '127.0.0.2', hashWorkers: 1, encryption: seederPolicy });
  const leecher = new Client({
    port: 0,
    bindAddress: '127.0.0.3',
    hashWorkers: 1,
    encryption: leecherPolicy,
  });
  let relay: Awaited<ReturnType<typeof recordingRelay>> | undefined;
  t.after(async () => {
    relay?.close();
    await leecher.close();
    await seeder.close();
  });
  const seederPort = await seeder.listen();
  await leecher.listen();
  const seeding = seeder.add(meta, { path: join(root, 'seed'), seed: true, useTrackers: false });
  const seederEvents: PeerConnectedEvent[] = [];
  seeding.on('peer-connected', (event) => seederEvents.push(event));
  await seeding.start();
  relay = viaRelay ? await recordingRelay(seederPort) : undefined;
  const session = leecher.add(meta, {
    path: join(root, 'leech'),
    useTrackers: false,
    peers: [relay ? { host: '127.0.0.4', port: relay.port } : { host: '127.0.0.2', port: seederPort }],
  });
  const leecherEvents: PeerConnectedEvent[] = [];
  session.on('peer-connected', (event) => leecherEvents.push(event));
  const done = once(session, 'done');
  await session.start();
  await done;
  const downloaded = await readFile(join(root, 'leech', 'secret.bin'));
  assert.ok(downloaded.equals(data), 'byte-exact');
  return { data, recorded: relay?.recorded ?? [], seederEvents, leecherEvents };
}

test('require ↔ require: RC4 both ways, and the wire carries no handshake string and no piece data in the clear', {
  timeout: 60_000,
}, async (t) => {
  const { data, recorded, seederEvents, leecherEvents } = await transfer(t, 'require', 'require', true);
  assert.deepEqual(
    leecherEvents.map((e) => [e.direction, e.encryption, e.transport]),
    [['outbound', 'rc4', 'tcp']],
  );
  assert.deepEqual(
    seederEvents.map((e) => [e.direction, e.encryption]),
    [['inbound', 'rc4']],
  );
  const wire = Buffer.concat(recorded);
  assert.ok(wire.length > data.length, `the relay saw the transfer (${wire.length} bytes)`);
  assert.equal(wire.indexOf('BitTorrent protocol'), -1, 'no plaintext handshake on the wire');
  for (let offset = 0; offset + 64 <= data.length; offset += 50_000)
    assert.equal(
      wire.indexOf(data.subarray(offset, offset + 64)),
      -1,
      `piece data at ${offset} is not in the clear`,
    );
});

test('the control: plaintext (disable ↔ disable) through the same relay shows both in the clear', {
  timeout: 60_000,
}, async (t) => {
  const { data, recorded, leecherEvents } = await transfer(t, 'disable', 'disable', true);
  assert.deepEqual(
    leecherEvents.map((e) => e.encryption),
    ['plain'],
  );
  const wire = Buffer.concat(recorded);
  assert.notEqual(wire.indexOf('BitTorrent protocol'), -1);
  assert.notEqual(wire.indexOf(data.subarray(0, 64)), -1);
});

test('prefer ↔ prefer selects RC4; prefer → a peer that refuses encryption falls back to plaintext', {
  timeout: 60_000,
}, async (t) => {
  const both = await transfer(t, 'prefer', 'prefer', false);
  assert.deepEqual(
    both.leecherEvents.map((e) => e.encryption),
    ['rc4'],
  );
  const fallback = await transfer(t, 'disable', 'prefer', false);
  assert.deepEqual(
    fallback.leecherEvents.map((e) => e.encryption),
    ['plain'],
  );
  const allow = await transfer(t, 'require', 'allow', false);
  assert.deepEqual(
    allow.seederEvents.map((e) => e.encryption),
    ['rc4'],
    'allow: plaintext refused, then encrypted',
  );
});

test('the CLI: --encryption require on both ends, --json peer-connected carries encryption and transport, --trace shows them', {
  timeout: 60_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-mse-cli-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const data = randomBytes(300_001);
  const torrent = encode({
    info: { name: 'c.bin', 'piece length': PIECE, pieces: pieceHashesOf(data, PIECE), length: data.length },
  });
  await writeFile(join(root, 'c.torrent'), torrent);
  await writeFile(join(root, 'c.bin'), data);
  const port = await freePort('127.0.0.2');
  const seeder = runCli([
    'seed',
    join(root, 'c.torrent'),
    join(root, 'c.bin'),
    '--bind',
    '127.0.0.2',
    '--port',
    String(port),
    '--no-trackers',
    '--encryption',
    'require',
    '--json',
  ]);
  t.after(() => seeder.stop());
  await seeder.waitFor((e) => e.type === 'seeding', 30_000);
  const leecher = runCli([
    'download',
    join(root, 'c.torrent'),
    '-o',
    join(root, 'out'),
    '--peer',
    `127.0.0.2:${port}`,
    '--bind',
    '127.0.0.3',
    '--port',
    '0',
    '--no-trackers',
    '--encryption',
    'require',
    '--json',
    '--trace',
  ]);
  t.after(() => leecher.stop());
  const result = await leecher.exited;
  assert.equal(result.code, 0, result.stderr);
  assert.ok((await readFile(join(root, 'out', 'c.bin'))).equals(data));
  const connected = leecher.events.find((e) => e.type === 'peer-connected');
  assert.equal(connected?.encryption, 'rc4');
  // Lodestone dials Lodestone over uTP first (MSE runs over uTP as over TCP).
  assert.equal(connected?.transport, 'utp');
  assert.match(result.stderr, /peer 127\.0\.0\.2:\d+ connected \(outbound, utp, rc4\)/);
});
