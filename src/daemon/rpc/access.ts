/**
 * Who may talk to the RPC, decided as Transmission decides it (libtransmission/rpc-server.c):
 * the client address against `rpc-whitelist` (comma-separated, `*` and `?` wildcards), HTTP
 * basic credentials against `rpc-username`/`rpc-password`, and the Host header against DNS
 * rebinding (any IP literal, `localhost`, or a name in `rpc-host-whitelist`; not checked when a
 * password is required, as in Transmission). Pure functions; the server calls them.
 */
import { isIP } from 'node:net';
import { constantTimeEqual, verifyRpcPassword } from '../rpc-password.js';

/** Splits a Transmission list setting ("127.0.0.1,::1, 192.168.*.*") into its entries. */
export function splitList(list: string): string[] {
  return list
    .split(/[,;]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** Transmission's `tr_wildmat` subset: `*` any run of characters, `?` one character, case-insensitive. */
export function wildcardMatch(text: string, pattern: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'is').test(text);
}

/** The client address as the whitelist sees it: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4. */
export function normalizeClientAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export function isAddressAllowed(address: string, enabled: boolean, whitelist: string): boolean {
  if (!enabled) return true;
  const client = normalizeClientAddress(address);
  return splitList(whitelist).some((pattern) => wildcardMatch(client, pattern));
}

/** The host name of a Host header value, without port or IPv6 brackets; `undefined` if unparsable. */
export function hostName(header: string): string | undefined {
  const value = header.trim();
  if (value === '') return undefined;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return undefined;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d+$/.test(rest)) return undefined;
    return value.slice(1, end);
  }
  const colon = value.indexOf(':');
  if (colon < 0) return value;
  if (!/^\d+$/.test(value.slice(colon + 1))) return undefined;
  return value.slice(0, colon);
}

export function isHostAllowed(
  header: string | undefined,
  options: { passwordRequired: boolean; enabled: boolean; whitelist: string },
): boolean {
  if (options.passwordRequired || !options.enabled) return true;
  if (header === undefined) return false;
  const name = hostName(header);
  if (name === undefined) return false;
  if (isIP(name) !== 0) return true;
  const lower = name.toLowerCase();
  if (lower === 'localhost' || lower === 'localhost.') return true;
  return splitList(options.whitelist).some((pattern) => wildcardMatch(lower, pattern));
}

/** The user and password of an `Authorization: Basic …` header, or `undefined`. */
export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Whether the request's credentials are the configured ones (both compared in constant time). */
export function isAuthorized(
  header: string | undefined,
  settings: { required: boolean; username: string; password: string },
): boolean {
  if (!settings.required) return true;
  const given = parseBasicAuth(header);
  if (given === undefined) return false;
  const userOk = constantTimeEqual(settings.username, given.user);
  const passwordOk = verifyRpcPassword(settings.password, given.password);
  return userOk && passwordOk;
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, and IPv4-mapped loopback). */
export function isLoopbackAddress(address: string): boolean {
  const plain = normalizeClientAddress(address);
  if (plain === '::1' || plain.toLowerCase() === 'localhost') return true;
  return isIP(plain) === 4 && plain.startsWith('127.');
}
