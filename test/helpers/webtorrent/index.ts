/**
 * WebTorrent (the `webtorrent` npm library, v3, a dev dependency) as a real
 * seeder or leecher for tests and the benchmark. Each one runs driver.mjs in
 * its own Node process, so its CPU and memory can be measured by PID and its
 * event loop never shares ours. The driver prints JSON lines (see its header)
 * into the profile's client.log, which is read here.
 *
 * Never run the `webtorrent` command instead (docs/interop.md, WebTorrent trap 1): it switches
 * on DHT, LSD, UPnP and NAT-PMP. The driver turns all of that off, plus PEX,
 * uTP, web seeds and WebRTC, and only talks to loopback trackers.
 *
 * WebTorrent has no listen/source address option; the driver pins both to
 * `address` from inside its process, so the tracker lists it at address:port
 * like the other real clients. It dials peers on 127.0.0.0/8 (unlike
 * Transmission), as a seeder too once the tracker hands them out. Its
 * re-announce interval is the tracker's (opentracker: ~30 min), so a seeder
 * meets later leechers only when they dial it (WebTorrent leechers do) or via
 * `peers`.
 *
 * Usage:
 *   const seeder = await startWebTorrentSeeder({ torrentPath, dataDir });
 *   t.after(() => seeder.stop());
 *   await seeder.waitSeeding();
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WAIT_MS, FatalClientState } from '../real-clients/common.js';
import {
  nextLoopbackAddress,
  RealClientError,
  type RealClientHandle,
  type RealLeecherHandle,
  readTorrentFacts,
  servesCompleteTorrent,
  type TorrentFacts,
} from '../real-clients/index.js';
import {
  type ManagedProcess,
  makeClientDir,
  pollUntil,
  seedingGuard,
  spawnManaged,
} from '../real-clients/process.js';

export type { RealClientHandle, RealLeecherHandle };

interface CommonOptions {
  /** Loopback address to listen, dial and announce from. @default nextLoopbackAddress() */
  address?: string;
  /** TCP listen port on `address`. @default 0, the kernel picks one (no port race) */
  port?: number;
  /** Peers ('ip:port') to dial at once, besides those the tracker hands out. */
  peers?: string[];
  /** Tracker URLs that replace the torrent's own (loopback only; others are dropped). */
  announce?: string[];
  /**
   * 0 plaintext only, 1 MSE/PE with plaintext fallback, 2 MSE/PE only, 'default' WebTorrent's
   * own default (`secure` not set).
   * @default 0, since WebTorrent's own default (1) starts every outgoing
   * connection with an MSE handshake, which peers without MSE (Lodestone) drop.
   */
  encryption?: 0 | 1 | 2 | 'default';
}

export interface WebTorrentSeederOptions extends CommonOptions {
  torrentPath: string;
  /** Folder that already holds the content (the torrent's `name` inside it). It is verified first. */
  dataDir: string;
}

export interface WebTorrentLeecherOptions extends CommonOptions {
  /** Exactly one of torrentPath and magnet (metadata then comes from peers, BEP 9). */
  torrentPath?: string;
  magnet?: string;
  /** Where the download goes (the torrent's `name` inside it). */
  outDir: string;
}

/** One JSON line of driver.mjs. */
export interface DriverEvent {
  event: 'ready' | 'metadata' | 'progress' | 'done' | 'announced' | 'wire' | 'warning' | 'error';
  /** Milliseconds since the driver process started (its performance.now()). */
  ms: number;
  [field: string]: unknown;
}

export interface WebTorrentHandle extends RealLeecherHandle {
  /** Every event the driver printed so far (read from its log on each call). */
  events(): Promise<DriverEvent[]>;
  /** Peer connections that completed a handshake: remote 'ip:port' and 'tcpIncoming' | 'tcpOutgoing'. */
  wires(): Promise<{ addr: string; type: string }[]>;
}

/** driver.mjs beside this file (running from source) or in test/ of the repo root (running from dist/). */
function driverPath(): string {
  const beside = fileURLToPath(new URL('./driver.mjs', import.meta.url));
  if (existsSync(beside)) return beside;
  // dist/test/helpers/webtorrent/index.js → <root>/test/helpers/webtorrent/driver.mjs
  return fileURLToPath(new URL('../../../../test/helpers/webtorrent/driver.mjs', import.meta.url));
}

let available: boolean | undefined;

/** Whether the `webtorrent` package resolves (installed through `npm ci`). Cached. */
export function webtorrentAvailable(): boolean {
  if (available === undefined) {
    try {
      import.meta.resolve('webtorrent');
      available = existsSync(driverPath());
    } catch {
      available = false;
    }
  }
  return available;
}

export async function startWebTorrentSeeder(options: WebTorrentSeederOptions): Promise<WebTorrentHandle> {
  const torrent = await readTorrentFacts(options.torrentPath);
  return startDriver('webtorrent-seeder', options, torrent, {
    mode: 'seed',
    torrentPath: options.torrentPath,
    dir: options.dataDir,
  });
}

export async function startWebTorrentLeecher(options: WebTorrentLeecherOptions): Promise<WebTorrentHandle> {
  if ((options.torrentPath === undefined) === (options.magnet === undefined)) {
    throw new RealClientError('startWebTorrentLeecher needs exactly one of torrentPath and magnet');
  }
  const torrent = options.torrentPath === undefined ? undefined : await readTorrentFacts(options.torrentPath);
  return startDriver('webtorrent-leecher', options, torrent, {
    mode: 'leech',
    ...(options.torrentPath !== undefined
      ? { torrentPath: options.torrentPath }
      : { magnet: options.magnet }),
    dir: options.outDir,
  });
}

async function startDriver(
  name: string,
  options: CommonOptions,
  torrent: TorrentFacts | undefined,
  specific: Record<string, unknown>,
): Promise<WebTorrentHandle> {
  if (!webtorrentAvailable()) {
    throw new RealClientError(
      'the webtorrent package is not installed (npm ci installs it as a dev dependency)',
    );
  }
  const address = options.address ?? nextLoopbackAddress();
  const config = {
    ...specific,
    address,
    port: options.port ?? 0,
    peers: options.peers ?? [],
    encryption: options.encryption ?? 0,
    ...(options.announce !== undefined ? { announce: options.announce } : {}),
  };
  const dir = await makeClientDir(name);
  const proc = await spawnManaged({
    name,
    command: process.execPath,
    args: [driverPath(), JSON.stringify(config)],
    dir,
  });
  const log = new EventLog(proc.logPath);
  let port = 0;
  try {
    await pollUntil(proc, 'the driver to listen', 15_000, async () => {
      const events = await log.read();
      throwOnError(events);
      const ready = events.find((event) => event.event === 'ready');
      if (ready !== undefined) port = Number(ready.port);
      return { done: ready !== undefined, status: `${events.length} events` };
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return makeHandle(proc, log, address, port, torrent);
}

function throwOnError(events: DriverEvent[]): void {
  const error = events.find((event) => event.event === 'error');
  if (error !== undefined) throw new FatalClientState(String(error.message));
}

function lastProgress(events: DriverEvent[]): { completedBytes: number; totalBytes: number } {
  const progress = events.findLast((event) => event.event === 'progress');
  const metadata = events.find((event) => event.event === 'metadata');
  return {
    completedBytes: Number(progress?.downloaded ?? 0),
    totalBytes: Number(progress?.length ?? metadata?.length ?? 0),
  };
}

function describe(events: DriverEvent[]): string {
  const { completedBytes, totalBytes } = lastProgress(events);
  const done = events.some((event) => event.event === 'done') ? ' done' : '';
  const wires = events.filter((event) => event.event === 'wire').length;
  return `${completedBytes}/${totalBytes} bytes verified${done}, ${wires} peer connection(s)`;
}

function makeHandle(
  proc: ManagedProcess,
  log: EventLog,
  address: string,
  port: number,
  torrent: TorrentFacts | undefined,
): WebTorrentHandle {
  const listening = seedingGuard(
    proc,
    address,
    port,
    torrent && (() => servesCompleteTorrent(address, port, torrent)),
  );
  const isDone = (events: DriverEvent[]) => events.some((event) => event.event === 'done');
  return {
    name: proc.name,
    pid: proc.pid,
    address,
    port,
    dir: proc.dir,
    logPath: proc.logPath,
    waitSeeding: (timeoutMs = DEFAULT_WAIT_MS) =>
      pollUntil(proc, 'seeding (100 % verified)', timeoutMs, async () => {
        const events = await log.read();
        throwOnError(events);
        const { done, note } = await listening(isDone(events));
        return { done, status: `${describe(events)}${note}` };
      }),
    waitComplete: (timeoutMs = DEFAULT_WAIT_MS) =>
      pollUntil(proc, 'download complete', timeoutMs, async () => {
        const events = await log.read();
        throwOnError(events);
        return { done: isDone(events), status: describe(events) };
      }),
    progress: async () => lastProgress(await log.read()),
    events: () => log.read(),
    wires: async () =>
      (await log.read())
        .filter((event) => event.event === 'wire')
        .map((event) => ({ addr: String(event.addr), type: String(event.type) })),
    stop: () => proc.stop(),
  };
}

/** Reads the JSON lines the driver appends to client.log, from where it left off. */
class EventLog {
  readonly #path: string;
  readonly #events: DriverEvent[] = [];
  readonly #decoder = new StringDecoder('utf8'); // a character may straddle two reads
  #offset = 0;
  #partial = '';

  constructor(path: string) {
    this.#path = path;
  }

  async read(): Promise<DriverEvent[]> {
    const handle = await open(this.#path, 'r').catch(() => undefined);
    if (handle === undefined) return [...this.#events]; // removed by stop()
    try {
      for (;;) {
        const buffer = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        this.#take(this.#decoder.write(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await handle.close();
    }
    return [...this.#events];
  }

  #take(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{"event":')) continue; // stderr output (warnings, DEBUG=webtorrent*)
      try {
        this.#events.push(JSON.parse(line) as DriverEvent);
      } catch {
        // a line that only looks like ours
      }
    }
  }
}
