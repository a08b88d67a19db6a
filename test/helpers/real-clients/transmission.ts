/**
 * transmission-daemon as a seeder or leecher on its own loopback address,
 * with its own --config-dir, run in the foreground (`-f`) so the PID is ours,
 * and driven through its RPC over HTTP (the X-Transmission-Session-Id dance).
 *
 * Traps (docs/interop.md, Transmission):
 * - Transmission never dials a peer on 127.0.0.0/8, but accepts incoming
 *   connections. A Transmission LEECHER therefore only downloads if the other
 *   side dials it: the seeder must learn its address from the tracker (announce
 *   after Transmission did, or re-announce) and connect. Two Transmission
 *   processes never meet on loopback.
 * - It seeds slowly on loopback (~8 MiB/s): interoperability, not speed.
 * - transmission-remote's "State: Seeding" only shows while a peer is being
 *   served ("Idle" otherwise), so readiness uses RPC `status` 6 instead.
 * - On SIGTERM it sends a `stopped` announce and exits after ~2 s.
 *
 * Usage: `const seeder = await startTransmissionSeeder({...}); t.after(() => seeder.stop());`
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  waitListening,
} from './process.js';

export interface TransmissionSeederOptions extends SeederPlacement {
  /** RPC port on `address`. @default a free port */
  rpcPort?: number;
  /** Merged over the generated settings.json. */
  extraSettings?: Record<string, unknown>;
}

export interface TransmissionLeecherOptions extends LeecherPlacement {
  rpcPort?: number;
  extraSettings?: Record<string, unknown>;
}

/** RPC `status` values of Transmission 3. */
const STATUS = { stopped: 0, checkWait: 1, check: 2, downloadWait: 3, download: 4, seedWait: 5, seed: 6 };
const FIELDS = [
  'id',
  'status',
  'percentDone',
  'recheckProgress',
  'haveValid',
  'sizeWhenDone',
  'leftUntilDone',
];

interface TorrentState {
  id: number;
  status: number;
  percentDone: number;
  recheckProgress: number;
  haveValid: number;
  sizeWhenDone: number;
  leftUntilDone: number;
  error: number;
  errorString: string;
}

export function startTransmissionSeeder(options: TransmissionSeederOptions): Promise<RealClientHandle> {
  return startTransmission('transmission-seeder', options, options.dataDir, {
    metainfo: options.torrentPath,
    verifyIfDownloading: true,
  });
}

export async function startTransmissionLeecher(
  options: TransmissionLeecherOptions,
): Promise<RealLeecherHandle> {
  if ((options.torrentPath === undefined) === (options.magnet === undefined)) {
    throw new RealClientError('startTransmissionLeecher needs exactly one of torrentPath and magnet');
  }
  return startTransmission('transmission-leecher', options, options.outDir, {
    metainfo: options.torrentPath,
    magnet: options.magnet,
    verifyIfDownloading: false,
  });
}

function settings(
  address: string,
  port: number,
  rpcPort: number,
  downloadDir: string,
): Record<string, unknown> {
  return {
    'bind-address-ipv4': address,
    'bind-address-ipv6': '::1',
    'peer-port': port,
    'peer-port-random-on-start': false,
    'rpc-enabled': true,
    'rpc-bind-address': address,
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': false,
    'rpc-host-whitelist-enabled': false,
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': false,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'download-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    'start-added-torrents': true,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'speed-limit-up-enabled': false,
    'speed-limit-down-enabled': false,
    'alt-speed-enabled': false,
    'alt-speed-time-enabled': false,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'peer-limit-global': 2000,
    'peer-limit-per-torrent': 1000,
    'upload-slots-per-torrent': 100,
    encryption: 0, // prefer plaintext; encrypted peers are still accepted
    'message-level': 2, // info, to stderr in foreground mode
    'script-torrent-done-enabled': false,
  };
}

async function startTransmission(
  name: string,
  options: { address: string; port?: number; rpcPort?: number; extraSettings?: Record<string, unknown> },
  downloadDir: string,
  source: { metainfo?: string; magnet?: string; verifyIfDownloading: boolean },
): Promise<RealLeecherHandle> {
  const torrent = source.metainfo === undefined ? undefined : await readTorrentFacts(source.metainfo);
  const callerPorts = options.port !== undefined || options.rpcPort !== undefined;
  return retryStart(callerPorts, async () => {
    const port = options.port ?? (await freePort(options.address));
    const rpcPort = options.rpcPort ?? (await freePort(options.address));
    const dir = await makeClientDir(name);
    const config = { ...settings(options.address, port, rpcPort, downloadDir), ...options.extraSettings };
    await writeFile(join(dir, 'settings.json'), `${JSON.stringify(config, null, 2)}\n`);
    const proc = await spawnManaged({
      name,
      command: 'transmission-daemon',
      args: ['-f', '-g', dir],
      dir,
    });
    const rpc = makeRpc(`http://${options.address}:${rpcPort}/transmission/rpc`);
    try {
      await pollUntil(proc, 'its RPC', 15_000, async () => {
        await rpc('session-get', { fields: ['version'] });
        return { done: true, status: 'rpc up' };
      });
      await waitListening(proc, options.address, port); // binds at start-up: a taken port shows here
      const added = (await rpc('torrent-add', {
        'download-dir': downloadDir,
        paused: false,
        ...(source.metainfo !== undefined
          ? { metainfo: (await readFile(source.metainfo)).toString('base64') }
          : { filename: source.magnet }),
      })) as { 'torrent-added'?: { id: number }; 'torrent-duplicate'?: { id: number } };
      const id = (added['torrent-added'] ?? added['torrent-duplicate'])?.id;
      if (id === undefined) throw new RealClientError(`torrent-add answered ${JSON.stringify(added)}`);
      return makeHandle(proc, options.address, port, rpc, id, source.verifyIfDownloading, torrent);
    } catch (error) {
      await proc.stop();
      throw error;
    }
  });
}

type Rpc = (method: string, args: Record<string, unknown>) => Promise<unknown>;

function makeRpc(url: string): Rpc {
  let sessionId = '';
  return async (method, args) => {
    const body = JSON.stringify({ method, arguments: args });
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-transmission-session-id': sessionId },
        body,
      });
      if (response.status === 409) {
        // CSRF guard: the answer carries the session id to send from now on.
        sessionId = String(response.headers['x-transmission-session-id'] ?? '');
        continue;
      }
      if (response.status !== 200)
        throw new RealClientError(`transmission ${method}: HTTP ${response.status}`);
      const parsed = JSON.parse(response.body.toString('utf8')) as { result: string; arguments?: unknown };
      if (parsed.result !== 'success') throw new RealClientError(`transmission ${method}: ${parsed.result}`);
      return parsed.arguments;
    }
    throw new RealClientError(`transmission ${method}: no valid session id`);
  };
}

async function torrentState(rpc: Rpc, id: number): Promise<TorrentState | undefined> {
  const answer = (await rpc('torrent-get', { ids: [id], fields: [...FIELDS, 'error', 'errorString'] })) as {
    torrents: TorrentState[];
  };
  const state = answer.torrents[0];
  // error 3 is a local error (missing or unreadable data); 1 and 2 are tracker warnings/errors.
  if (state !== undefined && state.error === 3)
    throw new FatalClientState(`local error: ${state.errorString}`);
  return state;
}

function describe(state: TorrentState | undefined): string {
  if (state === undefined) return 'torrent not listed';
  return `status ${state.status}, percentDone ${state.percentDone}, haveValid ${state.haveValid}/${state.sizeWhenDone}, recheck ${state.recheckProgress}${state.error !== 0 ? `, error ${state.error}: ${state.errorString}` : ''}`;
}

function isSeeding(state: TorrentState | undefined): boolean {
  return (
    state !== undefined &&
    state.status === STATUS.seed &&
    state.percentDone === 1 &&
    state.leftUntilDone === 0 &&
    state.sizeWhenDone > 0 &&
    state.haveValid === state.sizeWhenDone
  );
}

function makeHandle(
  proc: ManagedProcess,
  address: string,
  port: number,
  rpc: Rpc,
  id: number,
  verifyIfDownloading: boolean,
  torrent: TorrentFacts | undefined,
): RealLeecherHandle {
  // Transmission verifies existing data by itself when a torrent is added; if
  // a seeder nevertheless starts downloading, ask for one verification.
  let verifyRequested = !verifyIfDownloading;
  const listening = seedingGuard(
    proc,
    address,
    port,
    torrent && (() => servesCompleteTorrent(address, port, torrent)),
  );
  const waitSeeding = (timeoutMs = DEFAULT_WAIT_MS) =>
    pollUntil(proc, 'seeding (100 % verified)', timeoutMs, async () => {
      const state = await torrentState(rpc, id);
      if (!verifyRequested && state?.status === STATUS.download) {
        verifyRequested = true;
        await rpc('torrent-verify', { ids: [id] });
      }
      const { done, note } = await listening(isSeeding(state));
      return { done, status: `${describe(state)}${note}` };
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
        const state = await torrentState(rpc, id);
        const done =
          state !== undefined &&
          state.sizeWhenDone > 0 &&
          state.leftUntilDone === 0 &&
          state.haveValid === state.sizeWhenDone &&
          state.status !== STATUS.check &&
          state.status !== STATUS.checkWait;
        return { done, status: describe(state) };
      }),
    async reannounce() {
      await rpc('torrent-reannounce', { ids: [id] });
    },
    async progress() {
      const state = await torrentState(rpc, id);
      return { completedBytes: state?.haveValid ?? 0, totalBytes: state?.sizeWhenDone ?? 0 };
    },
    stop: () => proc.stop(),
  };
}
