/**
 * Runs a real opentracker on loopback for tests. Debian's build is
 * whitelist-only (docs/interop.md, opentracker trap 1): every info-hash a test uses must be
 * listed, via `infoHashes` or `addInfoHash`. The process chroots into a temp
 * folder and drops to `nobody`, so that folder and the whitelist in it are
 * world-readable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAnnounceUrl,
  failureReasonOf,
  parseHttpAnnounceResponse,
} from '../../src/tracker/http-codec.js';

export interface OpentrackerOptions {
  /** Loopback address to bind. @default '127.0.0.1' */
  host?: string;
  /** TCP and UDP port; a free one is picked when absent. */
  port?: number;
  /** Hex info-hashes (40 characters) to whitelist from the start. */
  infoHashes: string[];
}

export interface RunningOpentracker {
  httpUrl: string;
  udpUrl: string;
  host: string;
  port: number;
  pid: number;
  /** Whitelists one more hash and resolves once the tracker accepts it. */
  addInfoHash(hex: string): Promise<void>;
  /**
   * Resolves once the tracker hands out `host:port` for the hash. A client reports "seeding"
   * before its first announce has reached the tracker; a leecher that announces in between is
   * told of nobody and waits out the tracker's interval (opentracker: 30 min).
   */
  waitForPeer(hex: string, host: string, port: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, SIGKILL after 2 s, then removes the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

const WHITELIST = 'whitelist';

/** opentracker quit before answering, typically because another process took the port. */
class ExitedEarly extends Error {}
const READY_TIMEOUT_MS = 5000;

export async function startOpentracker(options: OpentrackerOptions): Promise<RunningOpentracker> {
  const host = options.host ?? '127.0.0.1';
  const hashes = options.infoHashes.map(checkHex);
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-opentracker-'));
  try {
    await chmod(dir, 0o755);
    await writeWhitelist(dir, hashes);
    // A port found free can be taken before opentracker binds it: retry with another.
    for (let attempt = 0; ; attempt++) {
      const port = options.port ?? (await freePort(host));
      try {
        return await launch(host, port, dir, hashes);
      } catch (error) {
        const lostPortRace = error instanceof ExitedEarly;
        if (!lostPortRace || options.port !== undefined || attempt >= 2) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  host: string,
  port: number,
  dir: string,
  hashes: string[],
): Promise<RunningOpentracker> {
  const args = [
    '-i',
    host,
    '-p',
    String(port),
    '-P',
    String(port),
    '-d',
    dir,
    '-u',
    'nobody',
    '-w',
    WHITELIST,
  ];
  const child = spawn('opentracker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => collect(Buffer.from(String(error))));
  const baseUrl = `http://${formatHost(host)}:${port}`;

  let stopping: Promise<void> | undefined;
  const stopProcess = () => {
    stopping ??= (async () => {
      await terminate(child, exited);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await waitUntil(async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new ExitedEarly(`opentracker exited early: ${output.trim()}`);
      }
      return (await httpStatus(`${baseUrl}/announce`)) !== undefined;
    }, 'opentracker to answer HTTP');
    const lastHash = hashes.at(-1);
    if (lastHash !== undefined) await waitAuthorized(baseUrl, lastHash);
  } catch (error) {
    await terminate(child, exited);
    if (error instanceof ExitedEarly) throw error;
    throw new Error(
      `opentracker did not start on ${host}:${port}: ${(error as Error).message} ${output.trim()}`,
    );
  }

  return {
    httpUrl: `${baseUrl}/announce`,
    udpUrl: `udp://${formatHost(host)}:${port}/announce`,
    host,
    port,
    pid: child.pid!,
    async addInfoHash(hex: string) {
      const hash = checkHex(hex);
      if (!hashes.includes(hash)) hashes.push(hash);
      await writeWhitelist(dir, hashes);
      child.kill('SIGHUP'); // reloads the whitelist
      await waitAuthorized(baseUrl, hash);
    },
    async waitForPeer(hex: string, host: string, peerPort: number, timeoutMs = 60_000) {
      const hash = checkHex(hex);
      await waitUntil(
        async () =>
          (await listedPeers(baseUrl, hash).catch((): string[] => [])).includes(`${host}:${peerPort}`),
        `opentracker to list ${host}:${peerPort} for ${hash}`,
        timeoutMs,
      );
    },
    stop: stopProcess,
  };
}

/** The peers the tracker hands a leecher, as "host:port" (a probe announce). */
async function listedPeers(baseUrl: string, hex: string): Promise<string[]> {
  const { body } = await probeAnnounce(baseUrl, hex, { left: 1, numwant: 200 });
  return parseHttpAnnounceResponse(body).peers.map((peer) => `${peer.host}:${peer.port}`);
}

/**
 * Announces a probe peer (port 1) for `hex`, then removes it again with
 * `stopped`, so tests never see it among their peers.
 */
async function probeAnnounce(
  baseUrl: string,
  hex: string,
  { left, numwant }: { left: number; numwant: number },
): Promise<{ status: number; body: Buffer }> {
  const request = {
    infoHash: Buffer.from(hex, 'hex'),
    peerId: Buffer.from('-LSPROBE-00000000000'),
    port: 1,
    uploaded: 0,
    downloaded: 0,
    left,
    numwant,
    key: 0,
  };
  try {
    return await httpGet(buildAnnounceUrl(`${baseUrl}/announce`, request));
  } finally {
    await httpGet(buildAnnounceUrl(`${baseUrl}/announce`, { ...request, event: 'stopped' })).catch(
      () => undefined,
    );
  }
}

function checkHex(hex: string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new Error(`not a hex info-hash: "${hex}"`);
  return hex.toLowerCase();
}

function formatHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

/** Written then renamed, so opentracker never reads a half-written list. */
async function writeWhitelist(dir: string, hashes: string[]): Promise<void> {
  const temporary = join(dir, `${WHITELIST}.tmp`);
  await writeFile(temporary, hashes.map((hash) => `${hash}\n`).join(''));
  await chmod(temporary, 0o644);
  await rename(temporary, join(dir, WHITELIST));
}

async function terminate(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), delay(2000).then(() => false)]);
  if (!graceful) {
    child.kill('SIGKILL');
    await Promise.race([exited, delay(2000)]);
  }
}

/** A port free for both TCP and UDP on `host` right now. */
async function freePort(host: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error(`no free TCP+UDP port on ${host}`);
}

/** Status code of a GET on a fresh connection, or undefined when nothing answers. */
function httpStatus(url: string): Promise<number | undefined> {
  return httpGet(url).then(
    (result) => result.status,
    () => undefined,
  );
}

function httpGet(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

/** Waits until an announce for `hex` is no longer refused (a probe announce). */
async function waitAuthorized(baseUrl: string, hex: string): Promise<void> {
  await waitUntil(async () => {
    const result = await probeAnnounce(baseUrl, hex, { left: 0, numwant: 0 }).catch(() => undefined);
    return result !== undefined && result.status === 200 && failureReasonOf(result.body) === undefined;
  }, `opentracker to whitelist ${hex}`);
}

async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
