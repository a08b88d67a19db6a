/**
 * aria2c as a seeder or leecher on its own loopback address, watched through
 * its JSON-RPC (which listens on 127.0.0.1/::1 only, `--rpc-listen-all=false`).
 *
 * Traps (docs/interop.md, aria2): aria2 reaches UDP trackers only through its DHT
 * socket, so give it an HTTP tracker; it works in 1-second ticks. It exits by
 * itself when the test process dies (`--stop-with-process`), on SIGTERM it
 * first sends a `stopped` announce (about 1 s).
 *
 * Usage: `const seeder = await startAria2Seeder({...}); t.after(() => seeder.stop());
 * await seeder.waitSeeding();`
 */
import {
  DEFAULT_WAIT_MS,
  FatalClientState,
  type LeecherPlacement,
  RealClientError,
  type RealClientHandle,
  type RealLeecherHandle,
  type SeederPlacement,
} from './common.js';
import { readTorrentFacts, type TorrentFacts } from './content.js';
import { freePort, httpRequest } from './net.js';
import { servesCompleteTorrent } from './probes.js';
import {
  type ManagedProcess,
  makeClientDir,
  pollUntil,
  retryStart,
  seedingGuard,
  spawnManaged,
} from './process.js';

export interface Aria2SeederOptions extends SeederPlacement {
  /** JSON-RPC port on 127.0.0.1. @default a free port */
  rpcPort?: number;
  /** More aria2c switches, e.g. ['--max-upload-limit=1M']. */
  extraArgs?: string[];
}

export interface Aria2LeecherOptions extends LeecherPlacement {
  rpcPort?: number;
  /**
   * How long aria2 may take to answer its JSON-RPC after start: it parses the
   * torrent and sets up every file first (a 100,000-file torrent on a busy
   * machine takes longer than the default). @default 15000
   */
  rpcStartTimeoutMs?: number;
  /**
   * Seconds between announces (`--bt-tracker-interval`), so aria2 also meets
   * peers that announce after it. @default 5
   */
  trackerIntervalSec?: number;
  extraArgs?: string[];
}

interface Aria2Download {
  gid: string;
  status: string;
  totalLength: string;
  completedLength: string;
  verifiedLength?: string;
  verifyIntegrityPending?: string;
  seeder?: string;
  followedBy?: string[];
  errorMessage?: string;
  files?: { path: string }[];
}

const STATUS_KEYS = [
  'gid',
  'status',
  'totalLength',
  'completedLength',
  'verifiedLength',
  'verifyIntegrityPending',
  'seeder',
  'followedBy',
  'errorMessage',
  'files',
];

export function startAria2Seeder(options: Aria2SeederOptions): Promise<RealClientHandle> {
  return startAria2('aria2-seeder', options, options.torrentPath, [
    `--dir=${options.dataDir}`,
    '--bt-seed-unverified=false',
    `--torrent-file=${options.torrentPath}`,
  ]);
}

export async function startAria2Leecher(options: Aria2LeecherOptions): Promise<RealLeecherHandle> {
  if ((options.torrentPath === undefined) === (options.magnet === undefined)) {
    throw new RealClientError('startAria2Leecher needs exactly one of torrentPath and magnet');
  }
  const source =
    options.torrentPath !== undefined ? [`--torrent-file=${options.torrentPath}`] : [options.magnet!];
  const handle = await startAria2('aria2-leecher', options, options.torrentPath, [
    `--dir=${options.outDir}`,
    '--file-allocation=none',
    `--bt-tracker-interval=${options.trackerIntervalSec ?? 5}`,
    ...source,
  ]);
  return handle as RealLeecherHandle;
}

async function startAria2(
  name: string,
  options: {
    address: string;
    port?: number;
    rpcPort?: number;
    rpcStartTimeoutMs?: number;
    extraArgs?: string[];
  },
  torrentPath: string | undefined,
  specificArgs: string[],
): Promise<RealClientHandle> {
  const torrent = torrentPath === undefined ? undefined : await readTorrentFacts(torrentPath);
  const callerPorts = options.port !== undefined || options.rpcPort !== undefined;
  return retryStart(callerPorts, async () => {
    const port = options.port ?? (await freePort(options.address));
    const rpcPort = options.rpcPort ?? (await freePort('127.0.0.1'));
    const dir = await makeClientDir(name);
    const args = [
      `--interface=${options.address}`,
      `--listen-port=${port}`,
      '--enable-dht=false',
      '--enable-dht6=false',
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--bt-require-crypto=false',
      '--seed-ratio=0.0',
      '--seed-time=100000', // minutes: seed until stopped
      '--check-integrity=true',
      '--no-conf=true',
      '--disable-ipv6=true',
      '--enable-rpc=true',
      `--rpc-listen-port=${rpcPort}`,
      '--rpc-listen-all=false',
      `--stop-with-process=${process.pid}`,
      '--log=-', // the log goes to stdout, which is client.log
      '--log-level=notice', // info logs every RPC poll, drowning the tail; pass --log-level=info in extraArgs if needed
      '--console-log-level=error',
      '--enable-color=false',
      '--summary-interval=0',
      '--show-console-readout=false',
      ...specificArgs,
      ...(options.extraArgs ?? []),
    ];
    const proc = await spawnManaged({ name, command: 'aria2c', args, dir });
    const rpc = makeRpc(rpcPort);
    try {
      await pollUntil(proc, 'its JSON-RPC', options.rpcStartTimeoutMs ?? 15_000, async () => {
        await rpc('aria2.getVersion', []);
        return { done: true, status: 'rpc up' };
      });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return makeHandle(proc, options.address, port, rpc, torrent);
  });
}

type Rpc = (method: string, params: unknown[]) => Promise<unknown>;

function makeRpc(rpcPort: number): Rpc {
  let id = 0;
  return async (method, params) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: String(++id), method, params });
    const response = await httpRequest(`http://127.0.0.1:${rpcPort}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const parsed = JSON.parse(response.body.toString('utf8')) as {
      result?: unknown;
      error?: { message: string };
    };
    if (parsed.error !== undefined) throw new RealClientError(`aria2 ${method}: ${parsed.error.message}`);
    return parsed.result;
  };
}

async function downloads(rpc: Rpc): Promise<Aria2Download[]> {
  const active = (await rpc('aria2.tellActive', [STATUS_KEYS])) as Aria2Download[];
  const waiting = (await rpc('aria2.tellWaiting', [0, 100, STATUS_KEYS])) as Aria2Download[];
  const stopped = (await rpc('aria2.tellStopped', [0, 100, STATUS_KEYS])) as Aria2Download[];
  const all = [...active, ...waiting, ...stopped];
  const failed = all.find((download) => download.status === 'error');
  if (failed !== undefined)
    throw new FatalClientState(`download ${failed.gid} failed: ${failed.errorMessage}`);
  return all;
}

/**
 * The download of the content itself: a magnet first runs a metadata-only
 * download ("[METADATA]…", later `followedBy` the real one), which is skipped.
 */
function mainDownload(all: Aria2Download[]): Aria2Download | undefined {
  return all.find(
    (download) =>
      download.followedBy === undefined && !(download.files?.[0]?.path ?? '').startsWith('[METADATA]'),
  );
}

function describe(download: Aria2Download | undefined): string {
  if (download === undefined) return 'no download yet';
  const verifying = download.verifiedLength !== undefined ? ` verifying ${download.verifiedLength}` : '';
  return `${download.status} ${download.completedLength}/${download.totalLength} seeder=${download.seeder}${verifying}`;
}

function isSeeding(download: Aria2Download | undefined): boolean {
  return (
    download !== undefined &&
    download.status === 'active' &&
    download.seeder === 'true' &&
    Number(download.totalLength) > 0 &&
    download.completedLength === download.totalLength &&
    download.verifiedLength === undefined &&
    download.verifyIntegrityPending === undefined
  );
}

function makeHandle(
  proc: ManagedProcess,
  address: string,
  port: number,
  rpc: Rpc,
  torrent: TorrentFacts | undefined,
): RealLeecherHandle {
  const listening = seedingGuard(
    proc,
    address,
    port,
    torrent && (() => servesCompleteTorrent(address, port, torrent)),
  );
  const waitSeeding = (timeoutMs = DEFAULT_WAIT_MS) =>
    pollUntil(proc, 'seeding (100 % verified)', timeoutMs, async () => {
      const main = mainDownload(await downloads(rpc));
      if (main?.status === 'complete' || main?.status === 'removed') {
        // With --seed-time this large, a finished torrent means aria2 gave up,
        // e.g. because it could not bind its BitTorrent port.
        throw new FatalClientState(`aria2 is no longer seeding (${describe(main)})`);
      }
      const { done, note } = await listening(isSeeding(main));
      return { done, status: `${describe(main)}${note}` };
    });
  return {
    name: proc.name,
    pid: proc.pid,
    address,
    port,
    dir: proc.dir,
    logPath: proc.logPath,
    waitSeeding,
    waitComplete: (timeoutMs = DEFAULT_WAIT_MS) =>
      pollUntil(proc, 'download complete', timeoutMs, async () => {
        const main = mainDownload(await downloads(rpc));
        const done = main !== undefined && (main.status === 'complete' || isSeeding(main));
        return { done, status: describe(main) };
      }),
    async progress() {
      const main = mainDownload(await downloads(rpc));
      return {
        completedBytes: Number(main?.completedLength ?? 0),
        totalBytes: Number(main?.totalLength ?? 0),
      };
    },
    stop: () => proc.stop(),
  };
}
