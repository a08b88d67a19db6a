/**
 * The DHT's bootstrap entries (`--dht-bootstrap host:port`, `DhtOptions.bootstrap`) as contacts:
 * a literal address as it is; a host name resolved to all its addresses (A and AAAA, at most
 * `MAX_ADDRESSES_PER_NAME`), each kept only when the DHT socket has its family (BEP 32: the node
 * asks each in its own family). Problems become warnings, never throws.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { formatAddress, type PeerAddress, parseAddress } from '../address.js';

/** Addresses used of one host name (a router name often has several; a hostile resolver many). */
export const MAX_ADDRESSES_PER_NAME = 8;

/** Resolves a host name to its addresses: `family` 0 for both, 4 or 6 for one. */
export type ResolveHost = (host: string, family: 0 | 4 | 6) => Promise<{ address: string }[]>;

export const resolveWithDns: ResolveHost = (host, family) => lookup(host, { all: true, family });

export interface BootstrapHostsContext {
  /** The families the DHT socket can send to. */
  hasFamily(family: 'IPv4' | 'IPv6'): boolean;
  resolve: ResolveHost;
  /** Told what was left out and why (nothing when the caller does not want warnings). */
  warn?(message: string): void;
}

/** The contacts of one bootstrap entry (empty when none is usable; `warn` says why). */
export async function bootstrapContacts(
  entry: PeerAddress | string,
  context: BootstrapHostsContext,
): Promise<{ host: string; port: number }[]> {
  const literal = typeof entry === 'string' ? parseAddress(entry) : entry;
  if (literal) {
    // A v6-only socket (an IPv6 --bind) cannot reach an IPv4 node, nor a v4-only one an IPv6 node.
    const family = literal.host.includes(':') ? 'IPv6' : 'IPv4';
    if (context.hasFamily(family)) return [{ host: literal.host, port: literal.port }];
    context.warn?.(
      `DHT bootstrap ${typeof entry === 'string' ? entry : formatAddress(entry)}: an ${family} node, but the DHT socket has no ${family} side (see --bind)`,
    );
    return [];
  }
  if (typeof entry !== 'string') return [];
  const match = /^([^:\s]+):(\d{1,5})$/.exec(entry);
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) {
    context.warn?.(`DHT bootstrap "${entry}" is not host:port`);
    return [];
  }
  // Only addresses the socket can send to: an IPv6-only --bind asks DNS for IPv6 (AAAA) ones.
  const v4 = context.hasFamily('IPv4');
  const v6 = context.hasFamily('IPv6');
  const family = v4 && v6 ? 0 : v4 ? 4 : 6;
  let addresses: { address: string }[];
  try {
    addresses = await context.resolve(match[1]!, family);
  } catch (error) {
    context.warn?.(`DHT bootstrap ${entry}: ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
  const out: { host: string; port: number }[] = [];
  const seen = new Set<string>();
  for (const { address } of addresses) {
    if (out.length >= MAX_ADDRESSES_PER_NAME) break;
    const kind = isIP(address);
    if (kind === 0 || seen.has(address)) continue;
    if (!context.hasFamily(kind === 4 ? 'IPv4' : 'IPv6')) continue;
    seen.add(address);
    out.push({ host: address, port });
  }
  return out;
}
