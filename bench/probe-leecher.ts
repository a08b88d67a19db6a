/**
 * The Lodestone leecher of `bench/investigate.ts`: the same library calls as
 * `lodestone download --seed` (a Client, one session writing to a folder),
 * run with the CLI's Node flags and malloc settings by the driver, plus a
 * sampler that prints one JSON line every `interval` ms: per-peer bytes
 * received and requests in flight, and the process's memory from inside
 * (V8 heap, array buffers) and from /proc (RSS split anon/file, VmHWM).
 * Measuring from inside costs a little CPU: use it to see where bytes come
 * from and where memory goes, never for speed (`npm run bench` is for that).
 *
 * Usage: node <CLI flags> dist/bench/probe-leecher.js TORRENT OUT_DIR BIND_ADDRESS [INTERVAL_MS]
 * PROBE_DISK_MIBS=N in the environment makes the disk a serial one writing N MiB/s (a disk
 * behind the network, or Linux throttling a writer once dirty pages pass vm.dirty_ratio).
 * Lines: {type:'start',port}, {type:'sample',...} repeatedly, {type:'done',...}, then it
 * keeps seeding until SIGTERM (the driver samples and stops it by PID).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import v8 from 'node:v8';
import { Client, parseTorrent } from '../src/index.js';
import { FileStorage, type Storage } from '../src/storage/index.js';

const [torrentPath, outDir, bindAddress, intervalText] = process.argv.slice(2);
if (torrentPath === undefined || outDir === undefined || bindAddress === undefined) {
  process.stderr.write('usage: probe-leecher.js TORRENT OUT_DIR BIND_ADDRESS [INTERVAL_MS]\n');
  process.exit(2);
}
const intervalMs = Number(intervalText ?? 250);

function line(value: object): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** kB fields of /proc/self/status we care about, in bytes. */
async function procStatus(): Promise<Record<string, number>> {
  const text = await readFile('/proc/self/status', 'utf8');
  const out: Record<string, number> = {};
  for (const name of ['VmRSS', 'VmHWM', 'RssAnon', 'RssFile', 'RssShmem', 'Threads']) {
    const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
    if (match) out[name] = Number(match[1]) * (name === 'Threads' ? 1 : 1024);
  }
  return out;
}

const meta = parseTorrent(readFileSync(torrentPath));
const client = new Client({ port: 0, bindAddress });
await client.listen();
/** Bytes handed to the storage whose write has not finished, now and at most. */
let writing = 0;
let peakWriting = 0;
const diskRate = Number(process.env.PROBE_DISK_MIBS ?? 0) * 1024 * 1024;
const storage: Storage = new FileStorage(meta, outDir);
const write = storage.writePiece.bind(storage);
let diskFreeAt = 0;
storage.writePiece = async (index, blocks) => {
  const bytes = blocks.reduce((sum, block) => sum + block.byteLength, 0);
  writing += bytes;
  peakWriting = Math.max(peakWriting, writing);
  try {
    if (diskRate > 0) {
      // A serial disk: this write ends bytes/rate after the previous one did.
      diskFreeAt = Math.max(diskFreeAt, performance.now()) + (bytes / diskRate) * 1000;
      await new Promise((resolve) => setTimeout(resolve, diskFreeAt - performance.now()));
    }
    await write(index, blocks);
  } finally {
    writing -= bytes;
  }
};
const session = client.add(meta, { path: outDir, seed: true, storage });
const startedAt = performance.now();
let peakHeapUsed = 0;
let peakArrayBuffers = 0;
let peakExternal = 0;
let peakInFlight = 0;

async function sample(): Promise<void> {
  const memory = process.memoryUsage();
  peakHeapUsed = Math.max(peakHeapUsed, memory.heapUsed);
  peakArrayBuffers = Math.max(peakArrayBuffers, memory.arrayBuffers);
  peakExternal = Math.max(peakExternal, memory.external);
  const peers = [...session.peers.values()].map((peer) => ({
    key: peer.key,
    client: peer.clientName,
    received: peer.connection.download.total,
    inFlight: peer.requests.size,
    choking: peer.connection.peerChoking,
    snubbed: peer.snubbed,
    seed: peer.isSeed,
    writable: peer.connection.writableLength,
  }));
  const inFlight = peers.reduce((sum, peer) => sum + peer.inFlight, 0);
  peakInFlight = Math.max(peakInFlight, inFlight);
  const stats = session.stats();
  line({
    type: 'sample',
    ms: Math.round(performance.now() - startedAt),
    verified: stats.verifiedBytes,
    downloaded: stats.downloadedBytes,
    wasted: stats.wastedBytes,
    endgame: stats.endgame,
    knownPeers: stats.knownPeers,
    writing,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    ...(await procStatus()),
    peers,
  });
}

const timer = setInterval(() => void sample(), intervalMs);
session.once('done', () => {
  void (async () => {
    await sample();
    const usage = process.resourceUsage();
    const spaces = Object.fromEntries(
      v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]),
    );
    let smaps = '';
    try {
      smaps = readFileSync('/proc/self/smaps_rollup', 'utf8');
    } catch {}
    line({
      type: 'done',
      ms: Math.round(performance.now() - startedAt),
      peakHeapUsed,
      peakArrayBuffers,
      peakExternal,
      peakInFlight,
      peakWriting,
      maxRssKiB: usage.maxRSS,
      minorFaults: usage.minorPageFault,
      cpuUserSeconds: usage.userCPUTime / 1e6,
      cpuSystemSeconds: usage.systemCPUTime / 1e6,
      heapSpaces: spaces,
      smapsRollup: smaps,
      ...(await procStatus()),
    });
    clearInterval(timer);
  })();
});
session.on('error', (error) => {
  line({ type: 'error', message: error.message });
  process.exitCode = 1;
});
process.once('SIGTERM', () => {
  clearInterval(timer);
  void session.stop().finally(() => client.close().finally(() => process.exit(0)));
});
line({ type: 'start', port: client.port });
await session.start();
