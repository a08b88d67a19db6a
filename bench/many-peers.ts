/**
 * `node dist/bench/many-peers.js`: issue 18's "one torrent with 200 connected peers" benchmark
 * on its own (the same as `npm run bench -- --rows many-peers`, without the rest of the bench;
 * bench/many-peers-row.ts describes the measurement). Prints the row's Markdown table.
 * Loopback only; every process is stopped by PID and every temp folder removed, also on Ctrl-C.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startOpentracker } from '../test/helpers/opentracker.js';
import { manyPeersRow, renderManyPeers } from './many-peers-row.js';
import { Cleanup, parseSize } from './measure.js';
import { SEEDER_KINDS, type SeederKind } from './swarm.js';

const { values: v } = parseArgs({
  options: {
    size: { type: 'string', default: '1GiB' },
    rounds: { type: 'string', default: '3' },
    peers: { type: 'string', default: '20,200' },
    real: { type: 'string', default: 'transmission,aria2,qbittorrent' },
    timeout: { type: 'string', default: '600' },
    settle: { type: 'string', default: '5' },
  },
});
const realKinds = v.real === '' ? [] : (v.real.split(',') as SeederKind[]);
for (const kind of realKinds) if (!SEEDER_KINDS.includes(kind)) throw new Error(`unknown seeder ${kind}`);
const log = (text: string) => process.stderr.write(`${text}\n`);

const cleanup = new Cleanup();
process.once('SIGINT', () => void cleanup.run().finally(() => process.exit(130)));

const root = await mkdtemp(join(os.tmpdir(), 'lodestone-many-peers-'));
cleanup.add(`work folder ${root}`, () => rm(root, { recursive: true, force: true }));
try {
  const tracker = await startOpentracker({ infoHashes: [] });
  cleanup.add(`opentracker (pid ${tracker.pid})`, () => tracker.stop());
  const info = await manyPeersRow({
    root: join(root, 'many-peers'),
    size: parseSize(v.size),
    rounds: Number(v.rounds),
    cases: v.peers.split(',').map(Number),
    realKinds,
    tracker,
    cleanup,
    timeoutMs: Number(v.timeout) * 1000,
    settleMs: Number(v.settle) * 1000,
    log,
  });
  process.stdout.write(`${renderManyPeers(info).join('\n')}\n`);
} finally {
  const problems = await cleanup.run();
  for (const problem of problems) log(`cleanup: ${problem}`);
}
