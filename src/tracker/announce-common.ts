import { isIPv4, isIPv6 } from 'node:net';
import { formatAddress, type PeerAddress } from '../address.js';
import { LodestoneError } from '../errors.js';

/** Used when a tracker gives no interval; BEP 3 makes it mandatory, some trackers forget. */
export const DEFAULT_INTERVAL_SECONDS = 1800;
/** A tracker asking for announces more often than this is misbehaving (or hostile). */
export const MIN_INTERVAL_SECONDS = 60;
/** One day: beyond that we would effectively stop asking for peers. */
export const MAX_INTERVAL_SECONDS = 86_400;

/** Seconds until the next regular announce, clamped to a range that neither spams nor starves. */
export function sanitizeInterval(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds)) return DEFAULT_INTERVAL_SECONDS;
  return Math.min(MAX_INTERVAL_SECONDS, Math.max(MIN_INTERVAL_SECONDS, Math.floor(seconds)));
}

/** `min interval` may legitimately be small; only negative and absurd values are fixed. */
export function sanitizeMinInterval(seconds: number | undefined): number | undefined {
  if (seconds === undefined || !Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_INTERVAL_SECONDS, Math.max(0, Math.floor(seconds)));
}

/** Failure and warning texts are shown to users; a hostile tracker must not flood a log. */
const MAX_MESSAGE_LENGTH = 512;

/** Control characters become spaces so a tracker cannot forge log lines or terminal escapes. */
export function sanitizeTrackerText(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  return clean.length > MAX_MESSAGE_LENGTH ? `${clean.slice(0, MAX_MESSAGE_LENGTH)}…` : clean;
}

/** Swarm counters are non-negative; anything else reads as unknown. */
export function sanitizeCount(value: number | undefined): number | undefined {
  return value !== undefined && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/** The error a pending announce rejects with when its caller (or `close()`) gives up on it. */
export function abortError(what: string): LodestoneError {
  return new LodestoneError('LODESTONE_ERR_ABORTED', `${what} aborted`);
}

/**
 * A peer address we are willing to dial: a literal IP that is not unspecified,
 * broadcast or multicast, and a non-zero port. IPv6 is written in its canonical
 * (RFC 5952) form and IPv4-mapped IPv6 becomes plain IPv4, so one peer always
 * formats the same way and deduplicates.
 */
export function normalizePeer(host: string, port: number): PeerAddress | undefined {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  let literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv6(literal)) {
    literal = canonicalIpv6(literal);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(literal);
    if (mapped) {
      const high = Number.parseInt(mapped[1]!, 16);
      const low = Number.parseInt(mapped[2]!, 16);
      literal = `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
    }
  }
  if (isIPv4(literal)) {
    const first = Number(literal.split('.')[0]);
    if (literal === '0.0.0.0' || literal === '255.255.255.255' || (first >= 224 && first <= 239)) {
      return undefined;
    }
    return { host: literal, port };
  }
  if (isIPv6(literal)) {
    if (literal === '::' || literal.startsWith('ff')) return undefined;
    return { host: literal, port };
  }
  return undefined;
}

/** The WHATWG URL parser already implements RFC 5952 serialisation (lower case, `::`). */
function canonicalIpv6(literal: string): string {
  // Zone ids ("fe80::1%eth0") are meaningless in a tracker answer; isIPv6 accepts them, URL does not.
  const withoutZone = literal.split('%')[0]!;
  try {
    return new URL(`http://[${withoutZone}]/`).hostname.slice(1, -1);
  } catch {
    return withoutZone.toLowerCase();
  }
}

/**
 * Most distinct peers taken from one tracker answer. The session's address book holds 5000
 * addresses in all, so more from one answer could never be used; the rest of a huge list
 * (a 2 MiB body holds ~350,000 compact peers) is skipped without being turned into objects.
 */
export const MAX_PEERS_PER_ANSWER = 5000;

/**
 * Collects the distinct peers of one answer, in the tracker's order, up to a limit. Sources
 * are appended one element at a time: never `push(...list)`, whose argument count a tracker
 * would decide (a spread of ~125,000 elements overflows the call stack).
 */
export class PeerCollector {
  readonly peers: PeerAddress[] = [];
  readonly #seen = new Set<string>();
  readonly #limit: number;

  constructor(limit: number = MAX_PEERS_PER_ANSWER) {
    this.#limit = limit;
  }

  get full(): boolean {
    return this.peers.length >= this.#limit;
  }

  /** False once full (callers stop reading); a duplicate is skipped and returns true. */
  add(peer: PeerAddress | undefined): boolean {
    if (this.full) return false;
    if (peer === undefined) return true;
    const key = formatAddress(peer);
    if (this.#seen.has(key)) return true;
    this.#seen.add(key);
    this.peers.push(peer);
    return !this.full;
  }
}

/**
 * Reads compact peers: 6 bytes (IPv4 + port) or 18 bytes (IPv6 + port) per
 * entry, all big-endian, into `into` until it is full. A trailing partial entry is
 * ignored, as other clients do, rather than failing the whole announce.
 */
export function collectCompactPeers(bytes: Uint8Array, family: 4 | 6, into: PeerCollector): void {
  const stride = family === 4 ? 6 : 18;
  for (let offset = 0; offset + stride <= bytes.length; offset += stride) {
    const port = (bytes[offset + stride - 2]! << 8) | bytes[offset + stride - 1]!;
    const host = family === 4 ? ipv4Text(bytes, offset) : ipv6Text(bytes, offset);
    if (!into.add(normalizePeer(host, port))) return;
  }
}

/** The distinct compact peers of `bytes`, at most `limit` of them (see `collectCompactPeers`). */
export function parseCompactPeers(
  bytes: Uint8Array,
  family: 4 | 6,
  limit: number = MAX_PEERS_PER_ANSWER,
): PeerAddress[] {
  const collector = new PeerCollector(limit);
  collectCompactPeers(bytes, family, collector);
  return collector.peers;
}

function ipv4Text(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

function ipv6Text(bytes: Uint8Array, offset: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[offset + i]! << 8) | bytes[offset + i + 1]!).toString(16));
  }
  return groups.join(':');
}
