/**
 * Fault injection for integration tests: a seeded random source (so a failing
 * timing can be replayed), a counting TCP relay between Lodestone and a
 * seeder (measures exactly how much piece data crossed the "network"), tmpfs
 * mounts for disk-full and read-only folders (root only), a tripwire listener
 * that records whether anybody dialled it, and a snapshot of a folder tree.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * mulberry32: a tiny deterministic PRNG in [0, 1). Tests print their seed so a
 * failing sequence of timings can be replayed exactly.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface CountingRelay {
  host: string;
  port: number;
  /** Block payload bytes of `piece` messages sent by the seeder to the client, all connections. */
  readonly pieceBytes: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections open right now. */
  readonly open: number;
  close(): Promise<void>;
}

/**
 * A TCP relay on `host` that forwards every connection to `target` and parses
 * the seeder-to-client direction as BitTorrent messages (68-byte handshake,
 * then length-prefixed messages) to count `piece` payload bytes. A `piece`
 * message is counted in full when its header passes, so a connection cut in
 * the middle of a block over-counts by less than one block: the count is an
 * upper bound of what the client could have received.
 */
export async function startCountingRelay(options: {
  host: string;
  target: { host: string; port: number };
}): Promise<CountingRelay> {
  const state = { pieceBytes: 0, connections: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    state.connections++;
    const upstream = tcpConnect({ host: options.target.host, port: options.target.port });
    sockets.add(client);
    sockets.add(upstream);
    const counter = new PieceCounter((bytes) => {
      state.pieceBytes += bytes;
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', () => {
      sockets.delete(client);
      end();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      end();
    });
    upstream.on('data', (chunk: Buffer) => counter.push(chunk));
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: options.host,
    port,
    get pieceBytes() {
      return state.pieceBytes;
    },
    get connections() {
      return state.connections;
    },
    get open() {
      return Math.ceil(sockets.size / 2);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Streams through BitTorrent peer-wire bytes (seeder side) and reports `piece` payload sizes. */
class PieceCounter {
  readonly #onPiece: (bytes: number) => void;
  #handshakeLeft = 68;
  readonly #header = Buffer.alloc(5);
  #headerFill = 0;
  #bodyLeft = 0;

  constructor(onPiece: (bytes: number) => void) {
    this.#onPiece = onPiece;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#handshakeLeft > 0) {
        const take = Math.min(this.#handshakeLeft, chunk.length - at);
        this.#handshakeLeft -= take;
        at += take;
        continue;
      }
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - at);
        this.#bodyLeft -= take;
        at += take;
        continue;
      }
      this.#header[this.#headerFill++] = chunk[at++]!;
      if (this.#headerFill === 4 && this.#header.readUInt32BE(0) === 0) {
        this.#headerFill = 0; // keep-alive
        continue;
      }
      if (this.#headerFill < 5) continue;
      const length = this.#header.readUInt32BE(0);
      const id = this.#header[4]!;
      this.#headerFill = 0;
      this.#bodyLeft = length - 1;
      if (id === 7 && length > 9) this.#onPiece(length - 9);
    }
  }
}

export interface Tripwire {
  host: string;
  port: number;
  /** Connections accepted (each is closed at once). */
  readonly connections: number;
  close(): Promise<void>;
}

/** A listener that accepts and drops connections, counting them: "was this peer ever dialled?". */
export async function startTripwire(host: string): Promise<Tripwire> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  return {
    host,
    port: typeof address === 'object' && address ? address.port : 0,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface TmpfsMount {
  dir: string;
  /** `mount -o remount,…`: e.g. { sizeBytes } to grow it, { readOnly } to flip it. */
  remount(options: { sizeBytes?: number; readOnly?: boolean }): Promise<void>;
  /** Unmounts (lazily if busy); safe to call twice. */
  unmount(): Promise<void>;
}

function mountOptions(options: { sizeBytes?: number; readOnly?: boolean }): string[] {
  const parts: string[] = [];
  if (options.readOnly !== undefined) parts.push(options.readOnly ? 'ro' : 'rw');
  if (options.sizeBytes !== undefined) parts.push(`size=${options.sizeBytes}`);
  return parts;
}

/**
 * Mounts a tmpfs on `dir` (which must exist). Needs root; throws with the
 * mount command's message otherwise, so callers can skip with a reason.
 */
export async function mountTmpfs(
  dir: string,
  options: { sizeBytes: number; readOnly?: boolean },
): Promise<TmpfsMount> {
  const opts = ['mode=0755', ...mountOptions(options)].join(',');
  await execFileAsync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  let mounted = true;
  return {
    dir,
    async remount(changes) {
      await execFileAsync('mount', ['-o', ['remount', ...mountOptions(changes)].join(','), dir]);
    },
    async unmount() {
      if (!mounted) return;
      try {
        await execFileAsync('umount', [dir]);
      } catch {
        await execFileAsync('umount', ['-l', dir]);
      }
      mounted = false;
    },
  };
}

/** Why tmpfs mounts cannot work here (not root), or undefined when they may. */
export function mountUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'mounting tmpfs needs root';
  return undefined;
}

/**
 * Every path under `dir` (relative, '/'-separated, folders with a trailing
 * '/'), without following symbolic links: compare two snapshots to prove
 * nothing was created.
 */
export async function snapshotTree(dir: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (relative: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(dir, relative));
    } catch {
      return; // vanished or unreadable: nothing to list
    }
    for (const name of names) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const stats = await lstat(join(dir, path)).catch(() => undefined);
      if (!stats) continue;
      if (stats.isDirectory()) {
        out.add(`${path}/`);
        await walk(path);
      } else out.add(path);
    }
  };
  await walk('');
  return out;
}

/** Paths in `after` that are not in `before`. */
export function addedPaths(before: ReadonlySet<string>, after: ReadonlySet<string>): string[] {
  return [...after].filter((path) => !before.has(path)).sort();
}

/** The lines of `stderr` that are not empty. */
export function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '');
}

/** True when `stderr` holds a JavaScript stack trace ("    at fn (file:line)"). */
export function hasStackTrace(stderr: string): boolean {
  return /^\s+at .+:\d+/m.test(stderr) || /\bnode:internal\b/.test(stderr);
}
