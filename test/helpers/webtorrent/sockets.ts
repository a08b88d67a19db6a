/**
 * The TCP and UDP sockets a process holds, from /proc (Linux only), so a test
 * can check that a peer process touched nothing but loopback: no DHT, UPnP
 * (SSDP multicast) or LSD socket, no connection off the machine.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';

export interface SocketInfo {
  protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  local: string;
  remote: string;
}

/** /proc prints IPv4 as one host-order 32-bit word, IPv6 as four of them. */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => {
    const octets = word.match(/../g)!.map((pair) => Number.parseInt(pair, 16));
    return endianness() === 'LE' ? octets.reverse() : octets;
  });
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

function decodeEndpoint(field: string): string {
  const [address = '', port = '0'] = field.split(':');
  return `${decodeAddress(address)}:${Number.parseInt(port, 16)}`;
}

export async function openSockets(pid: number): Promise<SocketInfo[]> {
  const byInode = new Map<string, SocketInfo>();
  for (const protocol of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const table = await readFile(`/proc/${pid}/net/${protocol}`, 'utf8').catch(() => '');
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (local === undefined || remote === undefined || inode === undefined) continue;
      byInode.set(inode, { protocol, local: decodeEndpoint(local), remote: decodeEndpoint(remote) });
    }
  }
  const sockets: SocketInfo[] = [];
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    const info = inode === undefined ? undefined : byInode.get(inode);
    if (info !== undefined) sockets.push(info);
  }
  return sockets;
}

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x; `unspecified` also allows 0.0.0.0 / :: (an unconnected remote). */
export function isLoopbackEndpoint(endpoint: string, unspecified = false): boolean {
  const host = endpoint.slice(0, endpoint.lastIndexOf(':'));
  if (unspecified && (host === '0.0.0.0' || host === '0:0:0:0:0:0:0:0')) return true;
  if (host.startsWith('127.') || host === '0:0:0:0:0:0:0:1') return true;
  // ::ffff:127.x.y.z shows as 0:0:0:0:0:ffff:7fxx:xxxx
  return /^0:0:0:0:0:ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host);
}
