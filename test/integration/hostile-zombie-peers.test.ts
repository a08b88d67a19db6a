/**
 * Issue 15, "zombie peers hold every slot": peers that handshake, send an empty bitfield and
 * then only keep-alives. Two hundred of them are listed before one honest Lodestone seeder, and
 * the CLI download holds the default 50 connections: without peer rotation the zombies fill every
 * slot for ever and the seeder is never dialled. With it, useless peers are closed to make room
 * for untried addresses (3 s grace while more untried addresses wait than there are slots, half
 * the slots per second), and the download completes within an explicit bound.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { type HostilePeer, startHostilePeer } from '../helpers/hostile-peer.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

const ZOMBIES = 200;
const MAX_PEERS = 50;
const PIECE_LENGTH = 64 * 1024;
/** Every byte within this (1 MiB on loopback; the wait is the rotation, not the transfer). */
const COMPLETE_WITHIN_MS = 25_000;

test(`a download completes from the one honest seeder listed after ${ZOMBIES} zombie peers (--max-peers ${MAX_PEERS})`, {
  timeout: COMPLETE_WITHIN_MS + 30_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-zombies-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const data = randomBytes(1024 * 1024);
  const torrentBytes = encode({
    info: {
      name: 'payload.bin',
      'piece length': PIECE_LENGTH,
      pieces: pieceHashesOf(data, PIECE_LENGTH),
      length: data.length,
    },
  });
  const meta = parseTorrent(torrentBytes);
  const pieceBytes = Math.ceil(meta.pieceCount / 8);
  await writeFile(join(root, 'z.torrent'), torrentBytes);

  const zombies: HostilePeer[] = [];
  t.after(() => Promise.all(zombies.map((zombie) => zombie.close())));
  for (let i = 0; i < ZOMBIES; i++) {
    zombies.push(
      await startHostilePeer({
        host: nextLoopbackAddress(),
        infoHash: meta.infoHash,
        // Has nothing, wants nothing, and never goes quiet: an empty bitfield, then keep-alives.
        onConnected(peer) {
          peer.send({ type: 'bitfield', bits: new Uint8Array(pieceBytes) });
          const timer = setInterval(() => {
            if (peer.closed) clearInterval(timer);
            else peer.send({ type: 'keep-alive' });
          }, 500);
          timer.unref();
        },
      }),
    );
  }
  const seeder = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(root, 'seed'),
    host: nextLoopbackAddress(),
  });
  t.after(() => seeder.client.close());

  const peerArgs = [
    ...zombies.map((zombie) => zombie.key),
    `${seeder.address.host}:${seeder.address.port}`,
  ].flatMap((key) => ['--peer', key]);
  const started = Date.now();
  const run = runCli([
    'download',
    join(root, 'z.torrent'),
    '-o',
    join(root, 'out'),
    '--no-trackers',
    '--max-peers',
    String(MAX_PEERS),
    '--bind',
    nextLoopbackAddress(),
    '-p',
    '0',
    '--json',
    ...peerArgs,
  ]);
  t.after(() => run.stop());
  const bound = setTimeout(() => void run.stop(), COMPLETE_WITHIN_MS);
  const result = await run.exited;
  clearTimeout(bound);
  const took = Date.now() - started;
  const connectedZombies = zombies.filter((zombie) => zombie.connections.length > 0).length;
  assert.equal(
    result.code,
    0,
    `no complete download within ${COMPLETE_WITHIN_MS} ms (exit ${result.code}/${result.signal} after ${took} ms; ` +
      `${connectedZombies} of ${ZOMBIES} zombies were dialled): ${result.stderr.slice(-1500)}`,
  );
  assert.ok((await readFile(join(root, 'out', 'payload.bin'))).equals(data), 'the exact bytes');
  // The zombies really did hold the slots first: more of them were dialled than there are slots.
  assert.ok(connectedZombies > MAX_PEERS, `only ${connectedZombies} zombies were dialled`);
  t.diagnostic(`complete in ${took} ms; ${connectedZombies} zombies dialled`);
});
