import { isIP } from 'node:net';

/** A peer's transport address. `host` is a literal IPv4 or IPv6 address (no brackets). */
export interface PeerAddress {
  host: string;
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
