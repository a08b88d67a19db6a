import {
  type EncryptionPolicy,
  formatDurationMs,
  LodestoneError,
  type PeerAddress,
  parseAddress,
  parseDurationMs,
} from '../index.js';

/** Options shared by the commands that run a torrent (download, seed). */
export interface SwarmOptions {
  port: string;
  bind?: string;
  maxPeers: string;
  peer?: string[];
  /** `--encryption prefer|require|allow|disable` (commander checks the choice). */
  encryption?: EncryptionPolicy;
  trackers: boolean;
  /** `--state-dir`: where resume records (and the DHT table) are kept. */
  stateDir?: string;
  /** `--no-resume` makes it false: no resume record read or written. */
  resume?: boolean;
  /** `--resume-interval`: how often the resume record is written while pieces arrive. */
  resumeInterval?: string;
  /** `--no-dht` makes it false. */
  dht?: boolean;
  /** `--dht-bootstrap <host:port>` (repeatable). */
  dhtBootstrap?: string[];
  /** `--no-utp` makes it false: TCP only, no UDP socket. */
  utp?: boolean;
  seedRatio?: string;
  seedTime?: string;
  /** `--metadata-timeout`: give up fetching a magnet's metadata after this long without progress. */
  metadataTimeout?: string;
  uploadSlots?: string;
  /** `--download-limit <rate>`: bytes per second for all torrents (see parseRate). */
  downloadLimit?: string;
  /** `--upload-limit <rate>`. */
  uploadLimit?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  trace?: boolean;
}

function usage(message: string): LodestoneError {
  return new LodestoneError('LODESTONE_ERR_USAGE', message);
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`invalid port "${text}"`);
  return port;
}

export function parsePositiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw usage(`invalid ${flag} "${text}" (a whole number ≥ 1)`);
  return value;
}

export function parsePeers(texts: string[] | undefined): PeerAddress[] {
  return (texts ?? []).map((text) => {
    const address = parseAddress(text);
    if (!address) throw usage(`invalid peer address "${text}" (use ip:port or [ipv6]:port)`);
    return address;
  });
}

export function parseRatio(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ratio = Number(text);
  if (!Number.isFinite(ratio) || ratio < 0) throw usage(`invalid --seed-ratio "${text}" (e.g. 1.5)`);
  return ratio;
}

/**
 * A duration option → milliseconds: "90" (seconds), "15s", "5m", "2h", "1d", "500ms", "1h30m".
 * The one parser of every duration flag (--seed-time, --metadata-timeout, …).
 */
export function parseDuration(
  text: string | undefined,
  flag: string,
  options: { min?: number } = {},
): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw usage(`invalid ${flag} "${text}" (a duration such as 90, 15s, 5m, 2h, 1h30m or 500ms)`);
  if (ms < (options.min ?? 0)) throw usage(`${flag} must be at least ${formatDurationMs(options.min ?? 0)}`);
  return ms;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
};

/** "512MiB", "1GiB", "1048576" → bytes. */
export function parseSize(text: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw usage(`invalid ${flag} "${text}" (e.g. 64MiB, 1GiB)`);
  const bytes = Math.floor(Number(match[1]) * unit);
  if (bytes < 1) throw usage(`${flag} must be at least one byte`);
  return bytes;
}

const RATE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/**
 * A rate option → bytes per second: "500k", "2M", "2MB/s", "1.5MiB", "1048576"; k, M, G (and
 * kB, MB, GB) are powers of 1000, KiB, MiB, GiB of 1024 (case-insensitive, an optional "/s").
 * "0" is unlimited; undefined stays undefined.
 */
export function parseRate(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s)?\s*$/i.exec(text);
  const unit = match ? RATE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined)
    throw usage(`invalid ${flag} "${text}" (bytes per second, e.g. 500k, 2M, 1.5MiB; 0 = unlimited)`);
  const rate = Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(rate)) throw usage(`${flag} "${text}" is too large`);
  return rate;
}
