/**
 * The DHT bench row (issue 17), part (a): a trackerless magnet on a loopback DHT of real nodes
 * (python3-libtorrent nodes and a bittorrent-dht node; a libtorrent seeder announced the torrent
 * to the DHT only). Each client starts cold, given one loopback node, and we time start → first
 * peer address from the DHT and start → metadata (ut_metadata from the seeder), in the same run,
 * the order rotating by round:
 * - Lodestone: `lodestone download <magnet> --dht-bootstrap <node> --json` (first connection from
 *   its `peer-connected` event, metadata from `metadata-done`; the CLI has no event for a peer
 *   address learnt in the metadata phase), and `lodestone-node`: our pure DhtNode glued to a UDP
 *   socket (test/helpers/dht-network.ts), start → first peer address of its get_peers;
 * - aria2c (`--dht-entry-point`, `--bt-metadata-only`), times from its debug log;
 * - WebTorrent, the library (bench/webtorrent-dht-driver.mjs), `dht: { bootstrap }`.
 *
 *   node dist/bench/dht-row.js [rounds=3]
 *
 * Prints one JSON line per measurement and a Markdown table of medians.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encode } from '../src/bencode/index.js';
import { parseTorrent } from '../src/metainfo/index.js';
import { safeCliArgs } from '../test/helpers/cli-args.js';
import {
  contactText,
  ltKnows,
  type Owner,
  startAria2DhtNode,
  startBittorrentDhtNode,
  startLibtorrentDhtNode,
  startOurDhtNode,
  until,
} from '../test/helpers/dht-network.js';
import { runCli } from '../test/helpers/lodestone-cli.js';
import { pieceHashesOf } from '../test/helpers/piece-hashes.js';
import { nextLoopbackAddress } from '../test/helpers/real-clients/net.js';

const WT_DRIVER = fileURLToPath(new URL('../../bench/webtorrent-dht-driver.mjs', import.meta.url));
const TIMEOUT_MS = 20_000;

export const DHT_ROW_CLIENTS = ['lodestone', 'lodestone-node', 'aria2', 'webtorrent'] as const;

export interface DhtRowRecord {
  client: (typeof DHT_ROW_CLIENTS)[number];
  round: number;
  /** Start → the first peer address the DHT gave. */
  firstPeerMs?: number;
  /** Start → the first peer connection (handshake done, or for aria2 the dial). */
  firstConnectMs?: number;
  metadataMs?: number;
  error?: string;
}

export class Cleanups implements Owner {
  readonly #fns: (() => unknown)[] = [];
  after(fn: () => unknown): void {
    this.#fns.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.#fns.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the rest still runs
      }
    }
  }
}

/** aria2's log time stamp ("2026-12-03 19:58:05.161316", local time) as epoch ms. */
function aria2Time(line: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  return m ? new Date(`${m[1]}T${m[2]}`).getTime() : undefined;
}

async function lodestoneRound(entry: { host: string; port: number }, infoHash: Uint8Array, round: number) {
  const owner = new Cleanups();
  try {
    const started = performance.now();
    const ours = await startOurDhtNode(owner);
    let firstPeerMs: number | undefined;
    // get_peers starts as soon as the table holds a node, while bootstrap goes on (its lookups
    // wait out every dead node among the closest: 4 attempts of ≥ 500 ms each).
    const bootstrapped = ours.node.bootstrap([entry]);
    await until(
      'a first node in the table',
      TIMEOUT_MS,
      () => ({
        done: ours.node.table.size > 0,
        status: `${ours.node.table.size} nodes`,
      }),
      2,
    );
    const result = await ours.node.getPeers(infoHash, {
      onPeers: () => {
        firstPeerMs ??= performance.now() - started;
      },
    });
    await bootstrapped;
    if (firstPeerMs === undefined) throw new Error(`no peer (${result.responses} responses)`);
    return { client: 'lodestone-node', round, firstPeerMs } satisfies DhtRowRecord;
  } finally {
    await owner.run();
  }
}

/** `download <magnet> -o <dir> --dht-bootstrap <entry> --json`, on a fresh loopback address, state in `<dir>/state`. */
export function lodestoneDownloadArgs(
  entry: { host: string; port: number },
  infoHashHex: string,
  dir: string,
): string[] {
  return [
    'download',
    `magnet:?xt=urn:btih:${infoHashHex}`,
    '-o',
    dir,
    '--bind',
    nextLoopbackAddress(),
    '--port',
    '0',
    '--json',
    '--dht-bootstrap',
    contactText(entry),
    '--state-dir',
    join(dir, 'state'),
  ];
}

/** `lodestone download <magnet> --dht-bootstrap <entry> --json`, stopped once it has the metadata. */
async function lodestoneCliRound(entry: { host: string; port: number }, infoHashHex: string, round: number) {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-cli-dht-'));
  const started = performance.now();
  // runCli applies safeCliArgs too; called here so the guard is visible where the bench spawns it.
  const run = runCli(safeCliArgs(lodestoneDownloadArgs(entry, infoHashHex, dir)));
  let firstConnectMs: number | undefined;
  void run
    .waitFor((e) => e.type === 'peer-connected', TIMEOUT_MS)
    .then(
      () => {
        firstConnectMs = performance.now() - started;
      },
      () => {},
    );
  try {
    await run.waitFor((e) => e.type === 'metadata-done', TIMEOUT_MS);
    const metadataMs = performance.now() - started;
    return {
      client: 'lodestone',
      round,
      ...(firstConnectMs !== undefined ? { firstConnectMs } : {}),
      metadataMs,
    } satisfies DhtRowRecord;
  } finally {
    await run.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function aria2Round(entry: { host: string; port: number }, infoHashHex: string, round: number) {
  const owner = new Cleanups();
  try {
    const started = Date.now();
    const node = await startAria2DhtNode(owner, {
      entry,
      uri: `magnet:?xt=urn:btih:${infoHashHex}`,
      extraArgs: ['--bt-metadata-only=true', '--bt-save-metadata=false'],
    });
    let firstPeer: number | undefined;
    let firstConnect: number | undefined;
    let metadata: number | undefined;
    await until('aria2 to get the metadata', TIMEOUT_MS, async () => {
      for (const line of (await node.log()).split('\n')) {
        if (firstPeer === undefined && /Adding peer 127\./.test(line)) firstPeer = aria2Time(line);
        if (firstConnect === undefined && /Connecting to 127\./.test(line)) firstConnect = aria2Time(line);
        if (metadata === undefined && /Download complete: \[METADATA\]|\[MEMORY\]\[METADATA\]/.test(line))
          metadata = aria2Time(line);
      }
      return { done: metadata !== undefined, status: `firstPeer=${firstPeer}` };
    });
    return {
      client: 'aria2',
      round,
      ...(firstPeer !== undefined ? { firstPeerMs: firstPeer - started } : {}),
      ...(firstConnect !== undefined ? { firstConnectMs: firstConnect - started } : {}),
      ...(metadata !== undefined ? { metadataMs: metadata - started } : {}),
    } satisfies DhtRowRecord;
  } finally {
    await owner.run();
  }
}

async function webtorrentRound(entry: { host: string; port: number }, infoHashHex: string, round: number) {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-wt-dht-'));
  const started = performance.now();
  const child = spawn(process.execPath, [
    WT_DRIVER,
    JSON.stringify({ magnet: `magnet:?xt=urn:btih:${infoHashHex}`, dir, bootstrap: [contactText(entry)] }),
  ]);
  const events = new Map<string, number>();
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const line of output.split('\n').slice(0, -1)) {
      const event = JSON.parse(line) as { event: string };
      if (!events.has(event.event)) events.set(event.event, performance.now() - started);
    }
    output = output.slice(output.lastIndexOf('\n') + 1);
  });
  try {
    await until('WebTorrent to get the metadata', TIMEOUT_MS, () => ({
      done: events.has('metadata') || events.has('error'),
      status: [...events.keys()].join(','),
    }));
    if (events.has('error')) throw new Error('the WebTorrent driver failed');
    return {
      client: 'webtorrent',
      round,
      ...(events.has('peer') ? { firstPeerMs: events.get('peer')! } : {}),
      ...(events.has('wire') ? { firstConnectMs: events.get('wire')! } : {}),
      metadataMs: events.get('metadata')!,
    } satisfies DhtRowRecord;
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * The row's loopback DHT: two libtorrent nodes and a bittorrent-dht node, a libtorrent seeder of a
 * fresh 1 MiB torrent announced to the DHT only; resolves once the announce is visible from the
 * entry node `a`. Everything started is stopped by `owner`.
 */
export async function startDhtRowNetwork(
  owner: Owner,
  root: string,
): Promise<{ entry: { host: string; port: number }; meta: ReturnType<typeof parseTorrent> }> {
  const data = randomBytes(1024 * 1024 + 7);
  const torrent = encode({
    info: {
      name: 'payload.bin',
      'piece length': 65536,
      pieces: pieceHashesOf(data, 65536),
      length: data.length,
    },
  });
  const torrentPath = join(root, 'payload.torrent');
  await writeFile(torrentPath, torrent);
  const meta = parseTorrent(torrent);
  const a = await startLibtorrentDhtNode(owner, { bootstrap: [] });
  const b = await startLibtorrentDhtNode(owner, { bootstrap: [a.contact] });
  await startBittorrentDhtNode(owner, [a.contact, b.contact]);
  const seeder = await startLibtorrentDhtNode(owner, {
    bootstrap: [a.contact, b.contact],
    seed: { torrentPath, writeData: (dir) => writeFile(join(dir, 'payload.bin'), data) },
  });
  await ltKnows(a, 3);
  // Ready when the seeder's announce is visible from the entry point.
  const probe = await startOurDhtNode(owner);
  const seederPeer = `${seeder.contact.host}:${seeder.peerPort}`;
  await until("the seeder's announce to be on the DHT", TIMEOUT_MS, async () => {
    await probe.node.bootstrap([a.contact]);
    const found = (await probe.node.getPeers(meta.infoHash)).peers.map((p) => `${p.host}:${p.port}`);
    return { done: found.includes(seederPeer), status: found.join(' ') };
  });
  return { entry: a.contact, meta };
}

export async function dhtRow(rounds: number, log: (line: string) => void): Promise<DhtRowRecord[]> {
  const owner = new Cleanups();
  const root = await mkdtemp(join(tmpdir(), 'lodestone-dht-row-'));
  owner.after(() => rm(root, { recursive: true, force: true }));
  try {
    const { entry, meta } = await startDhtRowNetwork(owner, root);
    const clients = DHT_ROW_CLIENTS;
    const records: DhtRowRecord[] = [];
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < clients.length; i++) {
        const client = clients[(i + round) % clients.length]!;
        let record: DhtRowRecord;
        try {
          if (client === 'lodestone') record = await lodestoneCliRound(entry, meta.infoHashHex, round);
          else if (client === 'lodestone-node') record = await lodestoneRound(entry, meta.infoHash, round);
          else if (client === 'aria2') record = await aria2Round(entry, meta.infoHashHex, round);
          else record = await webtorrentRound(entry, meta.infoHashHex, round);
        } catch (error) {
          record = { client, round, error: (error as Error).message.split('\n')[0]! };
        }
        log(JSON.stringify(record));
        records.push(record);
      }
    }
    return records;
  } finally {
    await owner.run();
  }
}

export function renderDhtRow(records: DhtRowRecord[]): string {
  const lines = [
    '| Client | first peer address (median ms) | first connection (median ms) | metadata (median ms) | failed |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const client of DHT_ROW_CLIENTS) {
    const mine = records.filter((r) => r.client === client);
    const cellOf = (values: (number | undefined)[]) => {
      const m = median(values.filter((v): v is number => v !== undefined));
      return m === undefined ? '—' : m.toFixed(0);
    };
    lines.push(
      `| ${client} | ${cellOf(mine.map((r) => r.firstPeerMs))} | ${cellOf(mine.map((r) => r.firstConnectMs))} | ${cellOf(mine.map((r) => r.metadataMs))} | ${mine.filter((r) => r.error).length}/${mine.length} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rounds = Number(process.argv[2] ?? 3);
  const records = await dhtRow(rounds, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`${renderDhtRow(records)}\n`);
  process.exit(0);
}
