/**
 * One download of the many-peers row (bench/many-peers-row.ts): a Lodestone leecher
 * (`lodestone download --json --seed`, as a user runs it) from the peers given with `--peer`,
 * timed to its `seeding` event and sampled (CPU from /proc) twice: the moment every given peer
 * has connected (its `peer-connected` events, distinct addresses) and at completion. So each
 * download gives CPU per GiB over the whole download and over the part downloaded after every
 * peer was connected (the steady state the "200 connected peers" describes, without the
 * set-up). The files are checked (size + SHA-1) after the leecher stopped; the folder is removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../test/helpers/lodestone-cli.js';
import { nextLoopbackAddress } from '../test/helpers/real-clients/index.js';
import {
  BenchError,
  type Cleanup,
  mustSample,
  sampleProcess,
  threadCpuSeconds,
  verifyDownload,
} from './measure.js';
import type { BenchTorrent } from './swarm.js';

export interface ManyPeersDownload {
  /** Distinct peer addresses that connected. */
  connected: number;
  /** Spawn → every piece verified. */
  wallSeconds: number;
  /** Leecher CPU (user + system) at completion, since spawn. */
  cpuSeconds: number;
  /**
   * Of it, the main thread's (JavaScript, socket reads and writes): without the write thread's
   * disk writes, whose system time varies most with the machine's load, and V8's helper threads.
   */
  mainThreadCpuSeconds?: number;
  /** The moment the last given peer connected, if every one did before completion. */
  allConnected?: {
    /** Seconds after spawn. */
    seconds: number;
    /** Leecher CPU seconds by then. */
    cpuSeconds: number;
    /** Bytes of the pieces verified by then. */
    verifiedBytes: number;
  };
}

export interface ManyPeersDownloadRequest {
  torrent: BenchTorrent;
  peers: { host: string; port: number }[];
  workDir: string;
  cleanup: Cleanup;
  timeoutMs: number;
}

/** Bytes of the pieces verified at or before `atMs` (epoch ms), from `piece-verified` events. */
export function verifiedBytesBy(
  events: readonly { type: string; [field: string]: unknown }[],
  atMs: number,
  pieceLength: number,
  totalLength: number,
): number {
  let bytes = 0;
  for (const event of events) {
    if (event.type !== 'piece-verified' || Date.parse(String(event.time)) > atMs) continue;
    const index = Number(event.index);
    bytes += Math.max(0, Math.min(pieceLength, totalLength - index * pieceLength));
  }
  return bytes;
}

export async function manyPeersDownload(request: ManyPeersDownloadRequest): Promise<ManyPeersDownload> {
  const { torrent, peers, cleanup, timeoutMs } = request;
  const outDir = await mkdtemp(join(request.workDir, 'lodestone-many-peers-'));
  const removeOut = cleanup.add(`download folder ${outDir}`, () =>
    rm(outDir, { recursive: true, force: true }),
  );
  try {
    const startedAt = Date.now();
    const run = runCli([
      'download',
      torrent.torrentPath,
      '-o',
      outDir,
      '--json',
      '--bind',
      nextLoopbackAddress(),
      '--port',
      '0',
      '--seed', // stay up after completion so the process can be sampled
      '--no-trackers',
      '--no-dht',
      '--no-utp',
      '--encryption',
      'allow',
      '--max-peers',
      String(peers.length + 10),
      ...peers.flatMap((p) => ['--peer', `${p.host}:${p.port}`]),
    ]);
    const pid = run.child.pid;
    const stop = cleanup.add(`lodestone leecher (pid ${pid})`, () => run.stop());
    try {
      if (pid === undefined) throw new BenchError('could not start lodestone');
      const addresses = new Set<string>();
      // The predicate sees every event as it arrives (in the leecher's order): the sample is
      // taken right after the last peer's `peer-connected` line is read.
      const allSampled = run
        .waitFor((event) => {
          if (event.type === 'peer-connected') addresses.add(String(event.address));
          return addresses.size >= peers.length;
        }, timeoutMs)
        .then(async () => {
          const before = Date.now();
          const sample = await sampleProcess(pid);
          return sample && { atMs: (before + Date.now()) / 2, cpuSeconds: sample.cpuSeconds };
        })
        .catch(() => undefined); // not every peer connected before the leecher was stopped
      const seeding = await run.waitFor((event) => event.type === 'seeding', timeoutMs);
      const [sample, mainThread] = await Promise.all([sampleProcess(pid), threadCpuSeconds(pid)]);
      const end = mustSample(sample, 'lodestone');
      const seededAtMs = Date.parse(String(seeding.time));
      // Every peer connected before `seeding` was read: its sample is under way or taken.
      const allAt = addresses.size >= peers.length ? await allSampled : undefined;
      const total = torrent.facts.totalLength;
      const measured: ManyPeersDownload = {
        connected: addresses.size,
        wallSeconds: (seededAtMs - startedAt) / 1000,
        cpuSeconds: end.cpuSeconds,
        ...(mainThread !== undefined ? { mainThreadCpuSeconds: mainThread } : {}),
      };
      if (allAt !== undefined && allAt.atMs <= seededAtMs) {
        measured.allConnected = {
          seconds: (allAt.atMs - startedAt) / 1000,
          cpuSeconds: allAt.cpuSeconds,
          verifiedBytes: verifiedBytesBy(run.events, allAt.atMs, torrent.facts.pieceLength, total),
        };
      }
      await stop();
      const problem = await verifyDownload(outDir, torrent.expected);
      if (problem !== undefined) throw new BenchError(`lodestone (many peers): ${problem}`);
      return measured;
    } finally {
      await stop();
    }
  } finally {
    await removeOut();
  }
}
