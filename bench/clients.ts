/**
 * One timed download by one client: Lodestone (its CLI, as a user runs it),
 * aria2c or WebTorrent (the library in its own process), from the .torrent
 * or from the magnet link. Each runs in a fresh folder on its own loopback
 * address, is sampled (CPU, peak RSS) the moment it reports completion, then
 * stopped by PID; the files are then checked (size + SHA-1) and removed.
 *
 * How completion is timed, without polling the client itself (a control API
 * polled often would add to its CPU):
 * - Lodestone: `--seed --json`; the `seeding` event, printed the moment the
 *   last piece is verified, carries its wall-clock time (`metadata-done` too).
 * - aria2c: `--on-bt-download-complete` / `--on-download-complete` hooks
 *   append `date +%s%N` to a file: the metadata download of a magnet ends with
 *   0 files, the content download with its files.
 * - WebTorrent: the driver's `done` / `metadata` events carry milliseconds
 *   since its process started, which is within a few ms of our spawn.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../test/helpers/lodestone-cli.js';
import { nextLoopbackAddress, startAria2Leecher } from '../test/helpers/real-clients/index.js';
import { startWebTorrentLeecher } from '../test/helpers/webtorrent/index.js';
import { startLibtorrentLeecher } from './libtorrent.js';
import {
  BenchError,
  type Cleanup,
  mustSample,
  type ProcessSample,
  pollFor,
  sampleProcess,
  verifyDownload,
} from './measure.js';
import type { BenchTorrent, LeecherKind } from './swarm.js';

export type SourceKind = 'torrent' | 'magnet';

/** Leechers of the swarm phases, plus python3-libtorrent (the many-files row). */
export type DownloadKind = LeecherKind | 'libtorrent';

export interface DownloadMeasurement {
  /** From spawning the client to every piece verified. */
  wallSeconds: number;
  /** Magnet only: from spawn to the info dictionary received and checked. */
  metadataSeconds?: number;
  /** The leecher process at completion: CPU (user+sys, children included) and VmHWM. */
  leecher: ProcessSample;
  /** Lodestone only: distinct peer addresses it connected to, by the connection's encryption. */
  peersByEncryption?: Record<string, number>;
  /** Lodestone only: the same peers by transport (`tcp`, `utp`). */
  peersByTransport?: Record<string, number>;
}

export interface DownloadRequest {
  kind: DownloadKind;
  source: SourceKind;
  torrent: BenchTorrent;
  /** Parent folder for the download folder (created fresh, removed afterwards). */
  workDir: string;
  cleanup: Cleanup;
  timeoutMs: number;
  /** Called the moment the leecher is sampled, before it is stopped (e.g. to sample the seeder too). */
  onComplete?: () => Promise<void>;
  /** Compare size + SHA-1 of every file with the original after the client stopped. @default true */
  verify?: boolean;
  /** More `lodestone download` switches (Lodestone only), e.g. ['--encryption', 'require']. */
  lodestoneArgs?: string[];
  /** Seeders libtorrent dials at once (it also announces to the torrent's tracker). */
  peers?: { host: string; port: number }[];
  /** libtorrent only: 'utp' for uTP only, TCP off both ways (the uTP row). @default 'tcp' */
  libtorrentTransport?: 'tcp' | 'utp';
  /** libtorrent only: the encryption row's policy ('require': RC4 only; 'disable': no MSE). */
  libtorrentEncryption?: 'require' | 'disable';
}

/** Runs one download to completion; throws BenchError when it fails, times out or is corrupt. */
export async function timedDownload(request: DownloadRequest): Promise<DownloadMeasurement> {
  const outDir = await mkdtemp(join(request.workDir, `${request.kind}-${request.source}-`));
  const removeOut = request.cleanup.add(`download folder ${outDir}`, () =>
    rm(outDir, { recursive: true, force: true }),
  );
  try {
    const run = {
      lodestone: lodestoneDownload,
      aria2: aria2Download,
      webtorrent: webtorrentDownload,
      libtorrent: libtorrentDownload,
    }[request.kind];
    const measurement = await run(request, outDir);
    if (request.verify !== false) {
      const problem = await verifyDownload(outDir, request.torrent.expected);
      if (problem !== undefined) throw new BenchError(`${request.kind} (${request.source}): ${problem}`);
    }
    return measurement;
  } finally {
    await removeOut();
  }
}

async function lodestoneDownload(request: DownloadRequest, outDir: string): Promise<DownloadMeasurement> {
  const { torrent, source } = request;
  const startedAt = Date.now();
  const run = runCli([
    'download',
    source === 'torrent' ? torrent.torrentPath : torrent.magnet,
    '-o',
    outDir,
    '--json',
    '--bind',
    nextLoopbackAddress(),
    '--port',
    '0',
    '--seed', // stay up after completion so the process can be sampled
    ...(request.lodestoneArgs ?? []),
  ]);
  const pid = run.child.pid;
  const stop = request.cleanup.add(`lodestone leecher (pid ${pid})`, () => run.stop());
  try {
    if (pid === undefined) throw new BenchError('could not start lodestone');
    const seeding = await run.waitFor((event) => event.type === 'seeding', request.timeoutMs);
    const leecher = mustSample(await sampleProcess(pid), 'lodestone');
    await request.onComplete?.();
    const metadata = run.events.find((event) => event.type === 'metadata-done');
    const at = (event: { [field: string]: unknown }) => (Date.parse(String(event.time)) - startedAt) / 1000;
    const encryptionOf = new Map<string, string>();
    const transportOf = new Map<string, string>();
    for (const event of run.events) {
      if (event.type === 'peer-connected') {
        encryptionOf.set(String(event.address), String(event.encryption));
        transportOf.set(String(event.address), String(event.transport));
      }
    }
    const count = (kinds: Iterable<string>) => {
      const counts: Record<string, number> = {};
      for (const kind of kinds) counts[kind] = (counts[kind] ?? 0) + 1;
      return counts;
    };
    return {
      wallSeconds: at(seeding),
      peersByEncryption: count(encryptionOf.values()),
      peersByTransport: count(transportOf.values()),
      ...(metadata !== undefined ? { metadataSeconds: at(metadata) } : {}),
      leecher,
    };
  } finally {
    await stop();
  }
}

const HOOK_SCRIPT =
  '#!/bin/sh\n# args: GID, number of files, first file path\necho "$(date +%s%N) $2" >> "$0.log"\n';

async function aria2Download(request: DownloadRequest, outDir: string): Promise<DownloadMeasurement> {
  const { torrent, source } = request;
  // The hook logs next to itself: one script per download, outside the download folder.
  const hookDir = await mkdtemp(join(request.workDir, 'aria2-hook-'));
  const removeHook = request.cleanup.add(`aria2 hook ${hookDir}`, () =>
    rm(hookDir, { recursive: true, force: true }),
  );
  const hook = join(hookDir, 'done.sh');
  await writeFile(hook, HOOK_SCRIPT);
  await chmod(hook, 0o755);
  const startedAt = Date.now();
  const handle = await startAria2Leecher({
    ...(source === 'torrent' ? { torrentPath: torrent.torrentPath } : { magnet: torrent.magnet }),
    outDir,
    address: nextLoopbackAddress(),
    rpcStartTimeoutMs: request.timeoutMs, // a 100,000-file torrent takes aria2 a while to set up
    extraArgs: [`--on-bt-download-complete=${hook}`, `--on-download-complete=${hook}`],
  });
  const stop = request.cleanup.add(`aria2 leecher (pid ${handle.pid})`, () => handle.stop());
  try {
    const hookLines = async () =>
      (await readFile(`${hook}.log`, 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [nanoseconds, files] = line.split(' ');
          return { seconds: (Number(BigInt(nanoseconds ?? '0') / 1_000_000n) - startedAt) / 1000, files };
        });
    let lastStatusCheck = Date.now();
    const done = await pollFor(
      'aria2 download',
      request.timeoutMs,
      50,
      async () => {
        const line = (await hookLines()).find((entry) => entry.files !== '0');
        if (line !== undefined) return line;
        if (Date.now() - lastStatusCheck > 2000) {
          lastStatusCheck = Date.now();
          await handle.progress(); // throws when aria2 reports the download failed
        }
        return undefined;
      },
      () => (processGone(handle.pid) ? 'aria2c exited' : undefined),
    );
    const leecher = mustSample(await sampleProcess(handle.pid), 'aria2c');
    await request.onComplete?.();
    await handle.waitComplete(10_000); // its own API agrees
    const metadata = (await hookLines()).find((entry) => entry.files === '0');
    return {
      wallSeconds: done.seconds,
      ...(source === 'magnet' && metadata !== undefined ? { metadataSeconds: metadata.seconds } : {}),
      leecher,
    };
  } finally {
    await stop();
    await removeHook();
  }
}

async function webtorrentDownload(request: DownloadRequest, outDir: string): Promise<DownloadMeasurement> {
  const { torrent, source } = request;
  const handle = await startWebTorrentLeecher({
    ...(source === 'torrent' ? { torrentPath: torrent.torrentPath } : { magnet: torrent.magnet }),
    outDir,
    address: nextLoopbackAddress(),
  });
  const stop = request.cleanup.add(`webtorrent leecher (pid ${handle.pid})`, () => handle.stop());
  try {
    const done = await pollFor(
      'WebTorrent download',
      request.timeoutMs,
      25,
      async () => {
        const events = await handle.events();
        const error = events.find((event) => event.event === 'error');
        if (error !== undefined) throw new BenchError(`WebTorrent failed: ${String(error.message)}`);
        return events.find((event) => event.event === 'done');
      },
      () => (processGone(handle.pid) ? 'the WebTorrent driver exited' : undefined),
    );
    const leecher = mustSample(await sampleProcess(handle.pid), 'webtorrent');
    await request.onComplete?.();
    const metadata = (await handle.events()).find((event) => event.event === 'metadata');
    return {
      wallSeconds: done.ms / 1000,
      ...(source === 'magnet' && metadata !== undefined ? { metadataSeconds: metadata.ms / 1000 } : {}),
      leecher,
    };
  } finally {
    await stop();
  }
}

async function libtorrentDownload(request: DownloadRequest, outDir: string): Promise<DownloadMeasurement> {
  if (request.source !== 'torrent')
    throw new BenchError('the libtorrent leecher downloads from a .torrent only');
  const startedAt = Date.now();
  const handle = startLibtorrentLeecher({
    torrentPath: request.torrent.torrentPath,
    outDir,
    address: nextLoopbackAddress(),
    peers: request.peers ?? [],
    ...(request.libtorrentTransport !== undefined ? { transport: request.libtorrentTransport } : {}),
    ...(request.libtorrentEncryption !== undefined ? { encryption: request.libtorrentEncryption } : {}),
  });
  const stop = request.cleanup.add(`libtorrent leecher (pid ${handle.pid})`, () => handle.stop());
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new BenchError(`libtorrent download: timed out after ${request.timeoutMs / 1000} s`)),
        request.timeoutMs,
      );
    });
    const doneAt = await Promise.race([handle.done, timeout]).finally(() => clearTimeout(timer));
    const leecher = mustSample(await sampleProcess(handle.pid), 'libtorrent');
    await request.onComplete?.();
    return { wallSeconds: (doneAt - startedAt) / 1000, leecher };
  } finally {
    await stop();
  }
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
