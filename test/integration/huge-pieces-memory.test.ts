/**
 * Memory bounds in bytes (issue 15, "Huge pieces" and "Memory bounds count items, not
 * bytes"): a 96 MiB torrent with 16 MiB pieces, seeded by three in-process Lodestone
 * seeders, is downloaded by a Lodestone client in a child process. With the default 16 MiB
 * memory budget it keeps one partial piece and one spare buffer; before, at least 4 partial
 * pieces (about three in flight here: 48 MiB of array buffers) and up to 64 spares. The
 * child reports its array buffers (where piece buffers live) sampled at each verified piece
 * and at `done`, and its peak RSS (VmHWM of /proc/self/status at `done`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode } from '../../src/bencode/index.js';
import {
  type LodestoneSeeder,
  singleFileTorrent,
  startLodestoneSeeder,
} from '../helpers/lodestone-seeder.js';
import { runNodeChild } from '../helpers/node-child.js';

const MiB = 1024 * 1024;
const PIECE_LENGTH = 16 * MiB;
const PIECES = 6;
/** Peak RSS of the downloading process (generous: ~85 MB measured; Node with its hash and write threads is ~55 MB). */
const RSS_BOUND_MB = 150;
/** Array buffers sampled at each verified piece and at `done`: one piece plus half the default 16 MiB budget. */
const ARRAY_BUFFERS_BOUND = PIECE_LENGTH + 8 * MiB;

const CHILD = `
const [clientUrl, metainfoUrl] = process.argv.slice(2);
const { Client } = await import(clientUrl);
const { parseTorrent } = await import(metainfoUrl);
const meta = parseTorrent(Buffer.from(process.env.HUGE_TORRENT, 'base64'));
const client = new Client({ port: 0, bindAddress: '127.0.0.1', hashWorkers: 1 });
await client.listen();
const session = client.add(meta, {
  path: process.env.HUGE_DIR,
  useTrackers: false,
  peers: JSON.parse(process.env.HUGE_PEERS),
});
let peakArrayBuffers = 0;
const sample = () => { peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers); };
session.on('piece-verified', sample);
const done = new Promise((resolve, reject) => {
  session.once('done', resolve);
  session.once('error', reject);
});
await session.start();
await done;
sample();
// VmHWM, not resourceUsage().maxRSS: ru_maxrss survives the exec of a spawn and would report
// the parent's peak (which holds the torrent's data); VmHWM starts afresh with the new process.
const { readFileSync } = await import('node:fs');
const maxRssKiB = Number(/^VmHWM:\\s+(\\d+)\\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
await client.close();
process.stdout.write(JSON.stringify({ maxRssKiB, peakArrayBuffers }));
process.exit(0);
`;

test('16 MiB pieces: peak RSS of a download stays within the byte budget', {
  timeout: 120_000,
}, async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'lodestone-huge-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const data = randomBytes(PIECES * PIECE_LENGTH - 12_345); // last piece short
  const meta = singleFileTorrent('huge.bin', data, PIECE_LENGTH);
  // Three seeders: with several peers, the old picker kept a partial piece per peer (up to 4).
  const seeders: LodestoneSeeder[] = [];
  for (const host of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
    const seeder = await startLodestoneSeeder({ meta, onDisk: data, dir: join(root, `seed-${host}`), host });
    t.after(() => seeder.client.close());
    seeders.push(seeder);
  }
  const torrent = encode({
    info: { name: 'huge.bin', 'piece length': PIECE_LENGTH, pieces: meta.pieceHashes, length: data.length },
  });

  // A script file, not --eval: worker threads inherit the process's execArgv.
  const script = join(root, 'leech.mjs');
  await writeFile(script, CHILD);
  const { code, stdout, stderr } = await runNodeChild(
    t,
    [
      script,
      new URL('../../src/session/client.js', import.meta.url).href,
      new URL('../../src/metainfo/index.js', import.meta.url).href,
    ],
    {
      HUGE_TORRENT: Buffer.from(torrent).toString('base64'),
      HUGE_DIR: join(root, 'leech'),
      HUGE_PEERS: JSON.stringify(seeders.map((seeder) => seeder.address)),
    },
    { timeoutMs: 90_000, what: 'download' },
  );
  assert.equal(code, 0, `the download failed: ${stderr}`);
  const { maxRssKiB, peakArrayBuffers } = JSON.parse(stdout) as {
    maxRssKiB: number;
    peakArrayBuffers: number;
  };
  t.diagnostic(
    `peak RSS ${(maxRssKiB / 1024).toFixed(1)} MB; array buffers ${(peakArrayBuffers / MiB).toFixed(1)} MiB`,
  );
  assert.ok((await readFile(join(root, 'leech', 'huge.bin'))).equals(data), 'the file is byte-identical');
  assert.ok(
    maxRssKiB / 1024 < RSS_BOUND_MB,
    `peak RSS ${(maxRssKiB / 1024).toFixed(1)} MB >= ${RSS_BOUND_MB} MB`,
  );
  // Piece buffers (partial pieces, spares, pieces waiting for the disk) are array buffers:
  // one 16 MiB partial piece plus at most half the budget; before, two to four pieces' worth.
  assert.ok(
    peakArrayBuffers <= ARRAY_BUFFERS_BOUND,
    `array buffers peaked at ${(peakArrayBuffers / MiB).toFixed(1)} MiB > ${ARRAY_BUFFERS_BOUND / MiB} MiB`,
  );
});
