/**
 * The scale row (issue 18): N small generated torrents (1–4 files of 16–256 KiB each; 1,000 in the
 * full bench, 200 with --quick, `--scale-torrents`) seeded by one process, Lodestone (one `Client`,
 * bench/scale-client.ts) against transmission-daemon, in the same run, one after the other:
 * - first start: process start → every torrent seeding, a full check of every piece;
 * - RSS (VmRSS) after settling, idle CPU (share of one core over `idleSeconds`), open files;
 * - restart: SIGTERM, then a new process on the same state → every torrent seeding (Lodestone
 *   reads its resume records: no piece is hashed; Transmission its .resume files).
 * No trackers (the torrents have none), no DHT, no peers: the cost measured is the client's own
 * for N torrents at rest. Targets for Lodestone at 1,000: RSS ≤ 300 MiB, idle CPU ≤ 2 %,
 * restart ≤ 5 s. Transmission gets its torrents over RPC (`torrent-add` with the data already in
 * place) and is "seeding" when `torrent-get` shows status 6 for all. See docs/scale.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTorrent } from '../src/index.js';
import { HashPool } from '../src/storage/hasher.js';
import { freePort } from '../test/helpers/real-clients/index.js';
import { httpRequest } from '../test/helpers/real-clients/net.js';
import { BenchError, delay, MiB, pollFor } from './measure.js';
import { digits, table } from './report.js';

const cell = (value: number | undefined) => (value === undefined ? '–' : digits(value));

const SCALE_CLIENT = fileURLToPath(new URL('./scale-client.js', import.meta.url));
const KiB = 1024;

export interface ScaleSideResult {
  client: 'lodestone' | 'transmission';
  torrents: number;
  firstStartSeconds?: number;
  restartSeconds?: number;
  /** Pieces hashed at restart (Lodestone only: 0 when every resume record was used). */
  restartPiecesHashed?: number;
  rssMiB?: number;
  /** VmHWM: the most resident memory the process ever had (the first start's check included). */
  peakRssMiB?: number;
  idleCpuPercent?: number;
  openFiles?: number;
  error?: string;
}

export interface ScaleRowInfo {
  torrents: number;
  totalSize: string;
  idleSeconds: number;
  results: ScaleSideResult[];
  skipped?: string;
}

/** Writes `count` torrents of 1–4 random files (16–256 KiB) under `dir`: data/<i>/s<i>/, torrents/<i>.torrent. */
export async function generateScaleTorrents(dir: string, count: number): Promise<number> {
  await mkdir(join(dir, 'torrents'), { recursive: true });
  const pool = new HashPool({ workers: 1 });
  let total = 0;
  try {
    for (let i = 0; i < count; i++) {
      const folder = join(dir, 'data', String(i), `s${i}`);
      await mkdir(folder, { recursive: true });
      const files = 1 + (i % 4);
      for (let f = 0; f < files; f++) {
        const size = (16 + ((i * 7 + f * 53) % 241)) * KiB;
        total += size;
        await writeFile(join(folder, `f${f}.bin`), randomBytes(size));
      }
      const { torrent } = await createTorrent(folder, {
        hashPool: pool,
        pieceLength: 16 * KiB,
        creationDate: false,
      });
      await writeFile(join(dir, 'torrents', `${i}.torrent`), torrent);
    }
  } finally {
    await pool.destroy();
  }
  return total;
}

/** One sample of a process: VmRSS, CPU seconds so far, open descriptors. */
async function probe(
  pid: number,
): Promise<{ rss: number; peak: number; cpu: number; fds: number } | undefined> {
  try {
    const [stat, status, fds] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
      readdir(`/proc/${pid}/fd`),
    ]);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15; USER_HZ is 100 on Linux.
    const cpu = (Number(fields[11]) + Number(fields[12])) / 100;
    const rss = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * KiB;
    const peak = Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * KiB;
    return { rss, peak, cpu, fds: fds.length };
  } catch {
    return undefined;
  }
}

/** RSS, idle CPU and open files of `pid` after `settleMs`, CPU over `idleMs`. */
async function measureIdle(
  pid: number,
  settleMs: number,
  idleMs: number,
): Promise<Pick<ScaleSideResult, 'rssMiB' | 'peakRssMiB' | 'idleCpuPercent' | 'openFiles'>> {
  await delay(settleMs);
  const before = await probe(pid);
  const t0 = performance.now();
  await delay(idleMs);
  const after = await probe(pid);
  if (!before || !after) throw new BenchError(`process ${pid} ended while idle`);
  const seconds = (performance.now() - t0) / 1000;
  return {
    rssMiB: after.rss / MiB,
    peakRssMiB: after.peak / MiB,
    idleCpuPercent: ((after.cpu - before.cpu) / seconds) * 100,
    openFiles: after.fds,
  };
}

function stopByPid(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  });
}

/** A running "our side": the place to switch the row to the daemon (the lead's note in the brief). */
interface OurSide {
  child: ChildProcess;
  /** Resolves once every torrent is seeding, with the child's report. */
  seeding: Promise<{ seeding: number; of: number; ms: number; piecesHashed: number }>;
}

/** Starts our side on `dir` (bench/scale-client.ts): one Lodestone `Client` seeding every torrent. */
export function startOurSide(dir: string, address: string): OurSide {
  const child = spawn(process.execPath, [SCALE_CLIENT, dir, address], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const seeding = new Promise<{ seeding: number; of: number; ms: number; piecesHashed: number }>(
    (resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"seeding"'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new BenchError(`scale client exited (${code}): ${stderr}`)));
    },
  );
  seeding.catch(() => {});
  return { child, seeding };
}

export async function lodestoneSide(
  dir: string,
  address: string,
  torrents: number,
  idleMs: number,
  register: (child: ChildProcess) => () => Promise<void>,
): Promise<ScaleSideResult> {
  const result: ScaleSideResult = { client: 'lodestone', torrents };
  const t0 = performance.now();
  const first = startOurSide(dir, address);
  const stopFirst = register(first.child);
  try {
    const report = await first.seeding;
    if (report.seeding !== torrents) throw new BenchError(`${report.seeding}/${torrents} seeding`);
    result.firstStartSeconds = (performance.now() - t0) / 1000;
    Object.assign(result, await measureIdle(first.child.pid!, 3000, idleMs));
  } finally {
    await stopFirst();
  }
  const t1 = performance.now();
  const second = startOurSide(dir, address);
  const stopSecond = register(second.child);
  try {
    const report = await second.seeding;
    if (report.seeding !== torrents) throw new BenchError(`${report.seeding}/${torrents} seeding on restart`);
    result.restartSeconds = (performance.now() - t1) / 1000;
    result.restartPiecesHashed = report.piecesHashed;
  } finally {
    await stopSecond();
  }
  return result;
}

type Rpc = (method: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

function transmissionRpc(url: string): Rpc {
  let sessionId = '';
  return async (method, args) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await httpRequest(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-transmission-session-id': sessionId },
        body: JSON.stringify({ method, arguments: args }),
      });
      if (response.status === 409) {
        sessionId = String(response.headers['x-transmission-session-id'] ?? '');
        continue;
      }
      const parsed = JSON.parse(response.body.toString('utf8')) as {
        result: string;
        arguments: Record<string, unknown>;
      };
      if (parsed.result !== 'success') throw new BenchError(`transmission ${method}: ${parsed.result}`);
      return parsed.arguments;
    }
    throw new BenchError(`transmission ${method}: no session id`);
  };
}

async function startTransmission(
  configDir: string,
  address: string,
  rpcPort: number,
): Promise<{ child: ChildProcess; rpc: Rpc }> {
  const child = spawn('transmission-daemon', ['-f', '-g', configDir], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const rpc = transmissionRpc(`http://${address}:${rpcPort}/transmission/rpc`);
  await pollFor(
    'transmission RPC',
    20_000,
    100,
    async () => {
      try {
        await rpc('session-get', { fields: ['version'] });
        return true;
      } catch {
        return undefined;
      }
    },
    () => (child.exitCode !== null ? `exited with ${child.exitCode}` : undefined),
  );
  return { child, rpc };
}

async function allSeeding(rpc: Rpc, torrents: number, timeoutMs: number): Promise<void> {
  await pollFor('transmission seeding', timeoutMs, 200, async () => {
    const answer = (await rpc('torrent-get', { fields: ['status'] })) as { torrents: { status: number }[] };
    const seeding = answer.torrents.filter((t) => t.status === 6).length;
    return answer.torrents.length === torrents && seeding === torrents ? true : undefined;
  });
}

export async function transmissionSide(
  dir: string,
  address: string,
  torrents: number,
  idleMs: number,
  register: (child: ChildProcess) => () => Promise<void>,
): Promise<ScaleSideResult> {
  const result: ScaleSideResult = { client: 'transmission', torrents };
  const configDir = join(dir, 'transmission');
  await mkdir(configDir, { recursive: true });
  const rpcPort = await freePort(address);
  const settings = {
    'bind-address-ipv4': address,
    'bind-address-ipv6': '::1',
    'peer-port': await freePort(address),
    'peer-port-random-on-start': false,
    'rpc-bind-address': address,
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': false,
    'rpc-host-whitelist-enabled': false,
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': true,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'download-dir': join(dir, 'data'),
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    'start-added-torrents': true,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'message-level': 1,
  };
  await writeFile(join(configDir, 'settings.json'), JSON.stringify(settings, null, 2));
  const t0 = performance.now();
  const first = await startTransmission(configDir, address, rpcPort);
  const stopFirst = register(first.child);
  try {
    for (let i = 0; i < torrents; i++) {
      const metainfo = (await readFile(join(dir, 'torrents', `${i}.torrent`))).toString('base64');
      await first.rpc('torrent-add', {
        metainfo,
        'download-dir': join(dir, 'data', String(i)),
        paused: false,
      });
    }
    await allSeeding(first.rpc, torrents, 600_000);
    result.firstStartSeconds = (performance.now() - t0) / 1000;
    Object.assign(result, await measureIdle(first.child.pid!, 3000, idleMs));
  } finally {
    await stopFirst();
  }
  const t1 = performance.now();
  const second = await startTransmission(configDir, address, rpcPort);
  const stopSecond = register(second.child);
  try {
    await allSeeding(second.rpc, torrents, 600_000);
    result.restartSeconds = (performance.now() - t1) / 1000;
  } finally {
    await stopSecond();
  }
  return result;
}

/** Runs both sides on `dir` (after generating the torrents); a failed side is recorded, not thrown. */
export async function scaleRow(options: {
  dir: string;
  torrents: number;
  idleSeconds: number;
  /** Why transmission-daemon is left out (not installed, --no-transmission); undefined runs it. */
  transmissionSkipped?: string;
  register: (what: string, step: () => Promise<void>) => () => Promise<void>;
  log: (text: string) => void;
}): Promise<ScaleRowInfo> {
  const { dir, torrents, log } = options;
  log(`scale: generating ${torrents} torrents`);
  const total = await generateScaleTorrents(dir, torrents);
  const register = (child: ChildProcess) =>
    options.register(`scale process ${child.pid}`, () => stopByPid(child));
  const results: ScaleSideResult[] = [];
  const sides = [
    ['lodestone', lodestoneSide] as const,
    ...(options.transmissionSkipped === undefined ? [['transmission', transmissionSide] as const] : []),
  ];
  for (const [client, side] of sides) {
    log(`scale: ${client}, ${torrents} torrents`);
    try {
      results.push(await side(dir, '127.0.0.1', torrents, options.idleSeconds * 1000, register));
    } catch (error) {
      results.push({ client, torrents, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return {
    torrents,
    totalSize: `${(total / MiB).toFixed(0)} MiB`,
    idleSeconds: options.idleSeconds,
    results,
    ...(options.transmissionSkipped !== undefined ? { skipped: options.transmissionSkipped } : {}),
  };
}

const ratio = (ours: number | undefined, theirs: number | undefined) =>
  ours === undefined || theirs === undefined || theirs === 0 ? '–' : `${(ours / theirs).toFixed(2)}×`;

export function renderScale(info: ScaleRowInfo | undefined): string[] {
  if (!info) return [];
  const ours = info.results.find((r) => r.client === 'lodestone');
  const theirs = info.results.find((r) => r.client === 'transmission');
  const rows = info.results.map((r) => [
    r.client,
    r.error ? `**failed**: ${r.error}` : 'ok',
    cell(r.firstStartSeconds),
    cell(r.restartSeconds),
    r.restartPiecesHashed === undefined ? '–' : String(r.restartPiecesHashed),
    cell(r.rssMiB),
    cell(r.peakRssMiB),
    cell(r.idleCpuPercent),
    r.openFiles === undefined ? '–' : String(r.openFiles),
  ]);
  if (ours && theirs)
    rows.push([
      'Lodestone ÷ Transmission',
      '',
      ratio(ours.firstStartSeconds, theirs.firstStartSeconds),
      ratio(ours.restartSeconds, theirs.restartSeconds),
      '',
      ratio(ours.rssMiB, theirs.rssMiB),
      ratio(ours.peakRssMiB, theirs.peakRssMiB),
      ratio(ours.idleCpuPercent, theirs.idleCpuPercent),
      '',
    ]);
  const targets =
    ours && !ours.error
      ? `Targets at 1,000 torrents: RSS ≤ 300 MiB (${(ours.rssMiB ?? 0) <= 300 ? 'held' : '**missed**'}), idle CPU ≤ 2 % (${(ours.idleCpuPercent ?? 0) <= 2 ? 'held' : '**missed**'}), restart ≤ 5 s (${(ours.restartSeconds ?? 0) <= 5 ? 'held' : '**missed**'})${info.torrents < 1000 ? ` — this run had ${info.torrents}` : ''}.`
      : '';
  return [
    '',
    `### Scale: ${info.torrents} small torrents seeded by one process (${info.totalSize}, no trackers, no DHT, idle CPU over ${info.idleSeconds} s)`,
    '',
    table(
      [
        'client',
        'ok',
        'first start s',
        'restart s',
        'hashed at restart',
        'RSS MiB',
        'peak RSS MiB',
        'idle CPU %',
        'open files',
      ],
      rows,
    ),
    ...(targets ? ['', targets] : []),
    ...(info.skipped ? ['', `transmission-daemon not run: ${info.skipped}.`] : []),
  ];
}

/** `node dist/bench/scale-row.js <n> [idle seconds] [--no-transmission]`: the row alone, printed as Markdown. */
async function standalone(): Promise<void> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const torrents = Number(process.argv[2] ?? 200);
  const idleSeconds = Number(process.argv[3] ?? 10);
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-scale-'));
  const steps: (() => Promise<void>)[] = [];
  try {
    const info = await scaleRow({
      dir,
      torrents,
      idleSeconds,
      ...(process.argv.includes('--no-transmission')
        ? { transmissionSkipped: 'left out (--no-transmission)' }
        : {}),
      register: (_what, step) => {
        let done: Promise<void> | undefined;
        const run = () => (done ??= step());
        steps.push(run);
        return run;
      },
      log: (text) => process.stderr.write(`${text}\n`),
    });
    process.stdout.write(`${renderScale(info).join('\n')}\n`);
  } finally {
    for (const step of steps.reverse()) await step();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await standalone();
