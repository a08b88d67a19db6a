/**
 * What the scale row (bench/scale-row.ts) measures from outside a process and how it talks to a
 * Transmission-style RPC (transmission-daemon and `lodestone daemon` alike): `/proc` samples
 * (RSS, peak RSS, CPU seconds, open descriptors), the idle window, a stop by PID, `torrent-add`
 * of every generated torrent and "all seeding" (`torrent-get` status 6 for all).
 */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpRequest } from '../test/helpers/real-clients/net.js';
import { BenchError, delay, MiB, pollFor } from './measure.js';

const KiB = 1024;

/** What the row reports for one client (the fields it could measure). */
export interface ScaleSideResult {
  client: 'lodestone' | 'transmission';
  /** Lodestone only: the real daemon over RPC (the default) or one library `Client` in its own process. */
  side?: 'daemon' | 'client';
  torrents: number;
  /** Adding every torrent over RPC (`torrent-add`, one at a time), from the first call to the last answer. */
  addSeconds?: number;
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

/** One sample of a process: VmRSS, VmHWM, CPU seconds so far, open descriptors. */
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
export async function measureIdle(
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

/** SIGTERM by PID, SIGKILL after `timeoutMs`; resolves once the process has exited. */
export function stopByPid(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
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

export type Rpc = (method: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;

/** A Transmission RPC client (409 → session id), for `name` in error messages. */
export function rpcClient(url: string, name: string): Rpc {
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
      if (parsed.result !== 'success') throw new BenchError(`${name} ${method}: ${parsed.result}`);
      return parsed.arguments;
    }
    throw new BenchError(`${name} ${method}: no session id`);
  };
}

/** `torrent-add` of every generated torrent, one call at a time, each with its data already in place. */
export async function addAll(rpc: Rpc, dir: string, torrents: number): Promise<void> {
  for (let i = 0; i < torrents; i++) {
    const metainfo = (await readFile(join(dir, 'torrents', `${i}.torrent`))).toString('base64');
    const answer = await rpc('torrent-add', {
      metainfo,
      'download-dir': join(dir, 'data', String(i)),
      paused: false,
    });
    if (answer['torrent-added'] === undefined)
      throw new BenchError(`torrent ${i} was not added: ${JSON.stringify(answer)}`);
  }
}

/** Resolves once `torrent-get` lists exactly `torrents` torrents, every one with status 6 (seeding). */
export async function allSeeding(rpc: Rpc, name: string, torrents: number, timeoutMs: number): Promise<void> {
  await pollFor(`${name} seeding`, timeoutMs, 200, async () => {
    const answer = (await rpc('torrent-get', { fields: ['status'] })) as { torrents: { status: number }[] };
    const seeding = answer.torrents.filter((t) => t.status === 6).length;
    return answer.torrents.length === torrents && seeding === torrents ? true : undefined;
  });
}

/** A client process driven over Transmission's RPC. */
export interface RpcProcess {
  child: ChildProcess;
  rpc: Rpc;
}

/** How the row runs one RPC-driven client: its name in errors, how to start it on its state. */
export interface RpcSide<P extends RpcProcess> {
  name: string;
  dir: string;
  torrents: number;
  idleMs: number;
  start: () => Promise<P>;
  register: (child: ChildProcess) => () => Promise<void>;
  /** Runs on the restarted process once every torrent seeds (e.g. count what it hashed). */
  afterRestart?: (second: P) => Promise<void>;
}

/**
 * The same script for every RPC-driven client: start, add every torrent, wait until all seed,
 * sample the idle window, stop; then start again on the same state and wait until all seed.
 */
export async function measureRpcSide<P extends RpcProcess>(
  side: RpcSide<P>,
  result: ScaleSideResult,
): Promise<void> {
  const t0 = performance.now();
  const first = await side.start();
  const stopFirst = side.register(first.child);
  try {
    const tAdd = performance.now();
    await addAll(first.rpc, side.dir, side.torrents);
    result.addSeconds = (performance.now() - tAdd) / 1000;
    await allSeeding(first.rpc, side.name, side.torrents, 600_000);
    result.firstStartSeconds = (performance.now() - t0) / 1000;
    Object.assign(result, await measureIdle(first.child.pid!, 3000, side.idleMs));
  } finally {
    await stopFirst();
  }
  const t1 = performance.now();
  const second = await side.start();
  const stopSecond = side.register(second.child);
  try {
    await allSeeding(second.rpc, side.name, side.torrents, 600_000);
    result.restartSeconds = (performance.now() - t1) / 1000;
    await side.afterRestart?.(second);
  } finally {
    await stopSecond();
  }
}
