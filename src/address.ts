import { isIP } from 'node:net';

/** A peer's transport address. `host` is a literal IPv4 or IPv6 address (no brackets). */
export interface PeerAddress {
  /** Literal IPv4 or IPv6 address. */
  host: string;
  /** TCP port, 1–65535. */
  port: number;
}

/** "1.2.3.4:5" or "[::1]:5", the form used in logs, magnets and as a map key. */
export function formatAddress(address: PeerAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Parses "host:port" or "[v6]:port"; returns undefined for anything else. */
export function parseAddress(text: string): PeerAddress | undefined {
  const match = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const host = match[1]!;
  const port = Number(match[2]);
  if (isIP(host) === 0 || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** The address's bytes as BEP 10 `yourip` wants them: 4 for IPv4, 16 for IPv6; undefined if not a literal. */
export function addressBytes(host: string): Uint8Array | undefined {
  const family = isIP(host);
  if (family === 4) return Uint8Array.from(host.split('.').map(Number));
  if (family !== 6) return undefined;
  const [head = '', tail = ''] = host.split('::');
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').flatMap(groupBytes));
  const front = parse(head);
  const back = host.includes('::') ? parse(tail) : [];
  const bytes = new Uint8Array(16);
  bytes.set(front, 0);
  bytes.set(back, 16 - back.length);
  return bytes;
}

/** Whether 16 address bytes are an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`): one IPv4 host. */
export function isIpv4Mapped(bytes: Uint8Array): boolean {
  return (
    bytes.length === 16 &&
    bytes.subarray(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff
  );
}

function groupBytes(group: string): number[] {
  if (group.includes('.')) return group.split('.').map(Number); // IPv4-mapped tail
  const value = Number.parseInt(group, 16);
  return [value >> 8, value & 0xff];
}

/** Formats 4 or 16 address bytes at `offset`: dotted quad, or RFC 5952 IPv6 (IPv4-mapped as `::ffff:a.b.c.d`). */
export function formatIpBytes(bytes: Uint8Array, offset: number, family: 4 | 6): string {
  if (family === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpBytes(bytes, offset + 12, 4)}`;
  }
  // The longest run (first on ties) of two or more zero groups becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
