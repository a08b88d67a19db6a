/**
 * A loopback DHT of real nodes, each on its own 127.0.0.x: python3-libtorrent sessions (DHT only,
 * seeding, or looking an info-hash up), aria2 DHT nodes, bittorrent-dht nodes (WebTorrent's DHT,
 * in this process) and our pure DhtNode glued to a UDP socket. Readiness is asserted (each node's
 * routing table knows others), never slept for. Every process is stopped by its PID (spawnManaged),
 * every socket closed, through `t.after`.
 *
 * Traps found on loopback (docs/dht-interop.md):
 * - libtorrent's `dht_bootstrap_nodes` are *routers*: queried, never put in the routing table, so a
 *   network bootstrapped that way stays empty. The script adds them with `add_dht_node` instead.
 *   It also needs the four `dht_restrict_*`/`dht_prefer_verified_node_ids`/`dht_ignore_dark_internet`
 *   settings off (docs/interop.md), and fills its table in a few seconds, not at once.
 * - aria2 runs its DHT only while a BitTorrent download is active: a DHT node of aria2 is an aria2c
 *   downloading a magnet. It accepts loopback entry points and nodes (no private-range filter).
 *   It first pings the entry point, then uses what it learnt; its table is visible only in its
 *   debug log ("Added DHTNode.") or in dht.dat on exit.
 */

import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../src/clock.js';
import { DhtError, DhtNode, decodeKrpc, encodeKrpc } from '../../src/dht/index.js';
import { freePort, nextLoopbackAddress } from './real-clients/net.js';
import { type ManagedProcess, makeClientDir, pollUntil, spawnManaged } from './real-clients/process.js';
import { LIBTORRENT_PYTHON } from './tools.js';

const LT_NODE = fileURLToPath(new URL('../../../test/fixtures/dht/lt-dht-node.py', import.meta.url));

export interface DhtContact {
  host: string;
  port: number;
}

/** Who owns what a start function creates: a TestContext, or the bench's cleanup list. */
export interface Owner {
  after(fn: () => unknown): void;
}

export const contactText = (c: DhtContact): string => `${c.host}:${c.port}`;

/** A free UDP port on `host` (bound and released). */
export async function freeUdpPort(host: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Polls `check` every `intervalMs` until it says done; fails naming `what` and the last status. */
export async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<{ done: boolean; status: string }> | { done: boolean; status: string },
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '(no status yet)';
  for (;;) {
    const result = await check();
    last = result.status;
    if (result.done) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface LtDhtStatus {
  dht_nodes: number;
  found: Record<string, string[]>;
  is_seeding?: boolean;
  progress?: number;
  uploaded?: number;
  num_peers?: number;
  /** The torrent's connected peers and the payload bytes downloaded from each. */
  peers?: { ip: string; downloaded: number }[];
}

export interface LtDhtNode {
  readonly contact: DhtContact;
  /** Its BitTorrent listen port (TCP) on contact.host. */
  readonly peerPort: number;
  readonly proc: ManagedProcess;
  readonly dir: string;
  status(): Promise<LtDhtStatus>;
}

/**
 * A python3-libtorrent session with the DHT on, on its own loopback address (the same port for
 * UDP DHT and TCP peers). `seed`: a .torrent whose files `writeData` puts into the node's folder
 * first; `magnet`: a download into that folder; `getPeers`: info-hashes (hex) it looks up every second.
 */
export async function startLibtorrentDhtNode(
  t: Owner,
  options: {
    bootstrap: DhtContact[];
    seed?: { torrentPath: string; writeData(dir: string): Promise<void> };
    /** Download this magnet into the node's folder (peers and metadata through the DHT). */
    magnet?: string;
    getPeers?: string[];
  },
): Promise<LtDhtNode> {
  const host = nextLoopbackAddress();
  const port = await freePort(host);
  const dir = await makeClientDir('lt-dht');
  if (options.seed) await options.seed.writeData(dir);
  const args = [LT_NODE, dir, host, String(port), options.bootstrap.map(contactText).join(',')];
  if (options.seed) args.push('--seed', options.seed.torrentPath);
  if (options.magnet) args.push('--magnet', options.magnet);
  for (const hash of options.getPeers ?? []) args.push('--get-peers', hash);
  const proc = await spawnManaged({
    name: `libtorrent DHT node ${host}`,
    command: LIBTORRENT_PYTHON,
    args,
    dir,
  });
  t.after(() => proc.stop());
  const status = async (): Promise<LtDhtStatus> =>
    JSON.parse(await readFile(join(dir, 'status.json'), 'utf8'));
  await pollUntil(proc, 'the libtorrent DHT node to start', 30_000, async () => {
    const s = await status().catch(() => undefined);
    return { done: s !== undefined && (!options.seed || s.is_seeding === true), status: JSON.stringify(s) };
  });
  return { contact: { host, port }, peerPort: port, proc, dir, status };
}

/** Waits until a libtorrent node's routing table holds at least `count` nodes. */
export async function ltKnows(node: LtDhtNode, count: number, timeoutMs = 20_000): Promise<void> {
  await pollUntil(
    node.proc,
    `libtorrent ${contactText(node.contact)} to know ${count} DHT nodes`,
    timeoutMs,
    async () => {
      const s = await node.status();
      return { done: s.dht_nodes >= count, status: `dht_nodes=${s.dht_nodes}` };
    },
  );
}

export interface Aria2DhtNode {
  readonly contact: DhtContact;
  readonly proc: ManagedProcess;
  /** Its download folder (`--dir`). */
  readonly dir: string;
  /** How many nodes aria2's debug log says it added to its routing table. */
  addedNodes(): Promise<number>;
  log(): Promise<string>;
}

/**
 * aria2c with its DHT on, downloading `magnet` into its folder (aria2's DHT runs only with a
 * BitTorrent download), entry point `entry`. `extraArgs` e.g. a --seed-* or --bt-* switch.
 */
export async function startAria2DhtNode(
  t: Owner,
  options: { entry: DhtContact; uri: string; extraArgs?: string[]; beforeStart?(dir: string): Promise<void> },
): Promise<Aria2DhtNode> {
  const host = nextLoopbackAddress();
  const dhtPort = await freeUdpPort(host);
  const peerPort = await freePort(host);
  const dir = await makeClientDir('aria2-dht');
  await options.beforeStart?.(dir);
  const logPath = join(dir, 'aria2.log');
  const proc = await spawnManaged({
    name: `aria2 DHT node ${host}`,
    command: 'aria2c',
    args: [
      '--no-conf=true',
      `--dir=${dir}`,
      `--interface=${host}`,
      `--listen-port=${peerPort}`,
      '--enable-dht=true',
      '--enable-dht6=false',
      `--dht-listen-port=${dhtPort}`,
      `--dht-entry-point=${contactText(options.entry)}`,
      `--dht-file-path=${join(dir, 'dht.dat')}`,
      '--bt-enable-lpd=false',
      '--enable-peer-exchange=false',
      '--bt-require-crypto=false',
      '--seed-ratio=0.0',
      '--check-integrity=true',
      `--stop-with-process=${process.pid}`,
      `--log=${logPath}`,
      '--log-level=debug',
      '--quiet=true',
      ...(options.extraArgs ?? []),
      options.uri,
    ],
    dir,
    extraLogs: [logPath],
  });
  t.after(() => proc.stop());
  const log = (): Promise<string> => readFile(logPath, 'utf8').catch(() => '');
  const addedNodes = async (): Promise<number> => (await log()).split('Added DHTNode.').length - 1;
  return { contact: { host, port: dhtPort }, proc, dir, addedNodes, log };
}

/** The subset of bittorrent-dht (v11, no types shipped) the harness uses. */
export interface BittorrentDht {
  nodeId: Buffer;
  listen(port: number, host: string, cb: () => void): void;
  addNode(node: { host: string; port: number }): void;
  toJSON(): { nodes: { host: string; port: number }[] };
  lookup(infoHash: string | Buffer, cb?: (error: Error | null, n: number) => void): void;
  announce(infoHash: string | Buffer, port: number, cb?: (error: Error | null) => void): void;
  on(event: 'peer', listener: (peer: { host: string; port: number }, infoHash: Buffer) => void): void;
  on(event: 'error' | 'warning', listener: (error: Error) => void): void;
  destroy(cb?: () => void): void;
}

/** bittorrent-dht is ESM without types: imported by a name TypeScript does not resolve. */
const BITTORRENT_DHT = 'bittorrent-dht';

/** A bittorrent-dht node in this process on its own loopback address, no public bootstrap. */
export async function startBittorrentDhtNode(
  t: Owner,
  bootstrap: DhtContact[],
): Promise<{
  contact: DhtContact;
  dht: BittorrentDht;
  peers: Map<string, Set<string>>;
}> {
  const DHT = ((await import(BITTORRENT_DHT)) as { default: new (options: object) => BittorrentDht }).default;
  const host = nextLoopbackAddress();
  const port = await freeUdpPort(host);
  const dht = new DHT({ bootstrap: false });
  const peers = new Map<string, Set<string>>();
  dht.on('peer', (peer, infoHash) => {
    const key = infoHash.toString('hex');
    if (!peers.has(key)) peers.set(key, new Set());
    peers.get(key)!.add(contactText(peer));
  });
  dht.on('warning', () => {});
  t.after(() => new Promise<void>((resolve) => dht.destroy(() => resolve())));
  await new Promise<void>((resolve) => dht.listen(port, host, () => resolve()));
  for (const contact of bootstrap) dht.addNode(contact);
  return { contact: { host, port }, dht, peers };
}

/**
 * Our pure DhtNode on a UDP socket: decodeKrpc → receive (a refused datagram → receiveMalformed),
 * send → encodeKrpc (the few lines of glue).
 */
export async function startOurDhtNode(t: Owner): Promise<{
  contact: DhtContact;
  node: DhtNode;
  socket: Socket;
  /** Datagrams that did not decode, by error code (a real node sent something we reject). */
  rejected: Map<string, number>;
}> {
  const host = nextLoopbackAddress();
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const node = new DhtNode({
    clock: systemClock,
    random: (n) => new Uint8Array(randomBytes(n)),
    send: (message, to) => socket.send(encodeKrpc(message), to.port, to.host),
  });
  const rejected = new Map<string, number>();
  socket.on('message', (datagram, from) => {
    let message: ReturnType<typeof decodeKrpc>;
    try {
      message = decodeKrpc(datagram);
    } catch (error) {
      const code = (error as { code?: string }).code ?? String(error);
      rejected.set(code, (rejected.get(code) ?? 0) + 1);
      if (error instanceof DhtError)
        node.receiveMalformed(error, { host: from.address, port: from.port }, datagram.length);
      return;
    }
    node.receive(message, { host: from.address, port: from.port }, datagram.length);
  });
  t.after(() => {
    node.close();
    return new Promise<void>((resolve) => socket.close(() => resolve()));
  });
  return { contact: { host, port: socket.address().port }, node, socket, rejected };
}
