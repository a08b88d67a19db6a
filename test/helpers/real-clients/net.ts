/**
 * Loopback addresses and ports for real clients, a Linux check that a process
 * really listens where it should, and a keep-alive-free HTTP client.
 */
import dgram from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { endianness } from 'node:os';
import { RealClientError } from './common.js';

/**
 * Whether process `pid` itself holds a TCP socket listening on address:port
 * (or on 0.0.0.0:port). Linux only: matches the socket inodes of
 * /proc/<pid>/fd against the LISTEN entries of /proc/net/tcp. A client that
 * failed to bind its port often keeps running and even reports "seeding".
 */
export async function listensOn(pid: number, address: string, port: number): Promise<boolean> {
  const octets = address.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0'));
  // /proc prints the address as a host-order 32-bit number.
  const wanted = (endianness() === 'LE' ? octets.reverse() : octets).join('').toUpperCase();
  const portHex = port.toString(16).padStart(4, '0').toUpperCase();
  const inodes = new Set<string>();
  for (const line of (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [local, state, inode] = [fields[1], fields[3], fields[9]];
    if (state !== '0A' || local === undefined || inode === undefined) continue; // 0A = LISTEN
    if (local === `${wanted}:${portHex}` || local === `00000000:${portHex}`) inodes.add(inode);
  }
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match !== null && inodes.has(match[1]!)) return true;
  }
  return false;
}

const handedOutPorts = new Set<number>();

/** A port free right now for both TCP and UDP on `host` (clients bind both), never handed out twice. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (handedOutPorts.has(port)) continue;
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      socket.once('error', () => {
        socket.close();
        resolve(false);
      });
      socket.bind(port, host, () => socket.close(() => resolve(true)));
    });
    if (udpFree) {
      handedOutPorts.add(port);
      return port;
    }
  }
  throw new RealClientError(`no free TCP+UDP port on ${host}`);
}

// 127.<20..219>.x.y: the second octet comes from our PID so that test files
// running in parallel use different addresses, and stays clear of 127.0.0.x,
// where trackers and hand-picked addresses live.
const addressBlock = 20 + (process.pid % 200);
let addressCounter = 0;

/** A fresh loopback address for one peer: 127.B.0.10, 127.B.0.11, … (B from the PID). */
export function nextLoopbackAddress(): string {
  const n = addressCounter++;
  const third = Math.floor(n / 240);
  if (third > 254) throw new RealClientError('ran out of loopback addresses'); // 127.B.255.x is for probes
  return `127.${addressBlock}.${third}.${10 + (n % 240)}`;
}

let probeCounter = 0;

/**
 * Source address for our own readiness probes: 127.B.255.240–254 in turn,
 * never handed out by nextLoopbackAddress(). Transmission keys peers by IP and
 * drops a new connection from an address whose last one closed under ~1 s
 * ago, so probes must neither share an address with a test's peer nor reuse
 * their own too quickly.
 */
export function probeSourceAddress(): string {
  return `127.${addressBlock}.255.${240 + (probeCounter++ % 15)}`;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP request on a fresh connection (no keep-alive agent: several of
 * these servers close after each answer, see docs/interop.md, opentracker trap 2).
 */
export function httpRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['content-length'] = String(body.length);
    const request = http.request(
      url,
      { method: options.method ?? 'GET', headers, agent: false, timeout: options.timeoutMs ?? 5000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new RealClientError(`HTTP timeout: ${url}`)));
    request.on('error', reject);
    request.end(body);
  });
}
