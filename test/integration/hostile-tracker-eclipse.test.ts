/**
 * Issue 15, "tracker eclipse": one tracker answers 20,000 junk addresses (most refused, a few
 * hundred silent: they accept and never say a word), and a second later another tracker gives
 * the one honest Lodestone seeder. Before the fix the address book dropped every address once
 * 5,000 were stored, so the seeder was never dialled; junk was worked through ~50 a second.
 * With per-origin shares, round-robin dialling across origins, a half-open bound apart from
 * the connection cap and shorter timeouts under pressure, the download completes within an
 * explicit bound. Takes a few seconds.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent } from '../../src/metainfo/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { startLodestoneSeeder } from '../helpers/lodestone-seeder.js';
import { pieceHashesOf } from '../helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

const JUNK = 20_000;
const SILENT = 300;
const PIECE_LENGTH = 64 * 1024;
/** Every byte within this (1 MiB on loopback: the wait is finding the seeder, not the transfer). */
const COMPLETE_WITHIN_MS = 20_000;
/** Tracker B answers this long after tracker A did. */
const B_AFTER_A_MS = 1000;

function compact(addresses: readonly { host: string; port: number }[]): Buffer {
  const out = Buffer.alloc(addresses.length * 6);
  addresses.forEach(({ host, port }, i) => {
    host.split('.').forEach((octet, j) => {
      out[i * 6 + j] = Number(octet);
    });
    out.writeUInt16BE(port, i * 6 + 4);
  });
  return out;
}

/** An HTTP tracker on loopback answering every announce with `answer()` (compact peers). */
async function startTracker(
  host: string,
  answer: () => Promise<Buffer>,
): Promise<{ url: string; server: http.Server; announces: number }> {
  const state = { announces: 0 };
  const server = http.createServer((request, response) => {
    state.announces++;
    void answer().then((peers) => {
      response.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      response.end(encode({ interval: 1800, peers }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://${host}:${port}/announce`,
    server,
    get announces() {
      return state.announces;
    },
  };
}

test(`a download completes from the honest seeder a second tracker lists after another listed ${JUNK} junk addresses`, {
  timeout: COMPLETE_WITHIN_MS + 40_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-eclipse-'));
  t.after(() => rm(root, { recursive: true, force: true }));

  // The silent kind: listeners that accept and hold the connection, never sending a byte.
  const silentHost = nextLoopbackAddress();
  const held: net.Socket[] = [];
  const silent: net.Server[] = [];
  t.after(() => {
    for (const socket of held) socket.destroy();
    return Promise.all(silent.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  for (let i = 0; i < SILENT; i++) {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      held.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, silentHost, resolve));
    silent.push(server);
  }
  // The refused kind: port 1 on 127.233.x.y, where nothing listens (checked below): a RST at once.
  const refused = Array.from({ length: JUNK - SILENT }, (_, n) => ({
    host: `127.233.${n >> 8}.${n & 255}`,
    port: 1,
  }));
  for (const sample of [refused[0]!, refused[refused.length - 1]!]) {
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const socket = net.connect(sample.port, sample.host);
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', resolve);
    });
    assert.equal(error?.code, 'ECONNREFUSED', `${sample.host}:${sample.port} must refuse`);
  }
  // The hostile order: the silent ones first, to take the connection slots.
  const junk = [
    ...silent.map((server) => ({ host: silentHost, port: (server.address() as net.AddressInfo).port })),
    ...refused,
  ];

  const data = randomBytes(1024 * 1024);
  const info = {
    name: 'payload.bin',
    'piece length': PIECE_LENGTH,
    pieces: pieceHashesOf(data, PIECE_LENGTH),
    length: data.length,
  };
  const seeder = await startLodestoneSeeder({
    meta: parseTorrent(encode({ info })),
    onDisk: data,
    dir: join(root, 'seed'),
    host: nextLoopbackAddress(),
  });
  t.after(() => seeder.client.close());

  let aAnsweredAt: number | undefined;
  let aAnswered: () => void = () => {};
  const aDone = new Promise<void>((resolve) => {
    aAnswered = resolve;
  });
  const trackerA = await startTracker(nextLoopbackAddress(), async () => {
    aAnsweredAt ??= Date.now();
    aAnswered();
    return compact(junk);
  });
  let bAnsweredAt: number | undefined;
  const trackerB = await startTracker(nextLoopbackAddress(), async () => {
    await aDone;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, aAnsweredAt! + B_AFTER_A_MS - Date.now())),
    );
    bAnsweredAt ??= Date.now();
    return compact([seeder.address]);
  });
  t.after(() => {
    for (const tracker of [trackerA, trackerB]) {
      tracker.server.closeAllConnections();
      tracker.server.close();
    }
  });
  await writeFile(
    join(root, 'e.torrent'),
    encode({ announce: trackerA.url, 'announce-list': [[trackerA.url], [trackerB.url]], info }),
  );

  const started = Date.now();
  const run = runCli([
    'download',
    join(root, 'e.torrent'),
    '-o',
    join(root, 'out'),
    '--bind',
    nextLoopbackAddress(),
    '-p',
    '0',
    '--json',
  ]);
  t.after(() => run.stop());
  const seederKey = `${seeder.address.host}:${seeder.address.port}`;
  let foundAt: number | undefined;
  void run
    .waitFor((event) => event.type === 'peer-connected' && event.address === seederKey, COMPLETE_WITHIN_MS)
    .then(
      () => {
        foundAt = Date.now();
      },
      () => {},
    );
  const bound = setTimeout(() => void run.stop(), COMPLETE_WITHIN_MS);
  const result = await run.exited;
  clearTimeout(bound);
  const took = Date.now() - started;
  const since = (at: number | undefined): string => (at === undefined ? 'never' : `${at - started} ms`);
  const report =
    `tracker A answered at ${since(aAnsweredAt)}, B at ${since(bAnsweredAt)}, seeder connected at ` +
    `${since(foundAt)}; ${held.length} silent connections accepted`;
  assert.equal(
    result.code,
    0,
    `no complete download within ${COMPLETE_WITHIN_MS} ms (exit ${result.code}/${result.signal} after ${took} ms; ` +
      `${report}): ${result.stderr.slice(-1500)}`,
  );
  assert.ok((await readFile(join(root, 'out', 'payload.bin'))).equals(data), 'the exact bytes');
  assert.ok(bAnsweredAt !== undefined && foundAt !== undefined && foundAt >= bAnsweredAt, report);
  // The junk really was in the way: the silent listeners took connections before the seeder came.
  assert.ok(held.length >= 50, `only ${held.length} silent connections: ${report}`);
  t.diagnostic(
    `complete in ${took} ms; seeder found ${foundAt - bAnsweredAt} ms after tracker B answered; ${report}`,
  );
});
