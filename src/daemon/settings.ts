/**
 * The daemon's settings: defaults for every key and the one pure validator every source goes
 * through (the settings file at start and on SIGHUP, `updateSettings`, the CLI's flags). A bad
 * value is a `DaemonError('LODESTONE_ERR_DAEMON_SETTINGS')` naming the key and what it must be;
 * garbage never throws anything else (property-tested).
 */
import { join } from 'node:path';
import { DaemonError } from '../errors.js';
import { DEFAULT_MAX_OPEN_FILES } from '../storage/handle-budget.js';
import type { DaemonSettings } from './settings-types.js';

type Kind =
  | { type: 'boolean' }
  | { type: 'string'; nonEmpty?: boolean }
  | { type: 'integer'; min: number; max: number }
  | { type: 'number'; min: number; max: number };

const BOOL: Kind = { type: 'boolean' };
const TEXT: Kind = { type: 'string' };
const PORT: Kind = { type: 'integer', min: 0, max: 65535 };
/** Speeds in kB/s, as Transmission's settings.json has them. */
const SPEED: Kind = { type: 'integer', min: 0, max: 2 ** 31 - 1 };
const COUNT: Kind = { type: 'integer', min: 0, max: 2 ** 31 - 1 };
const MINUTE_OF_DAY: Kind = { type: 'integer', min: 0, max: 1439 };

/** Every key the daemon knows, with the type and range of its value. */
export const SETTING_KINDS: { readonly [K in keyof DaemonSettings]: Kind } = {
  'download-dir': { type: 'string', nonEmpty: true },
  'start-added-torrents': BOOL,
  'peer-port': PORT,
  'bind-address-ipv4': TEXT,
  'bind-address-ipv6': TEXT,
  'peer-limit-global': { type: 'integer', min: 1, max: 65535 },
  'peer-limit-per-torrent': { type: 'integer', min: 1, max: 65535 },
  'upload-slots-per-torrent': { type: 'integer', min: 1, max: 1000 },
  encryption: { type: 'integer', min: 0, max: 2 },
  'dht-enabled': BOOL,
  'pex-enabled': BOOL,
  'utp-enabled': BOOL,
  'lpd-enabled': BOOL,
  'port-forwarding-enabled': BOOL,
  'speed-limit-down': SPEED,
  'speed-limit-down-enabled': BOOL,
  'speed-limit-up': SPEED,
  'speed-limit-up-enabled': BOOL,
  'alt-speed-down': SPEED,
  'alt-speed-up': SPEED,
  'alt-speed-enabled': BOOL,
  'alt-speed-time-enabled': BOOL,
  'alt-speed-time-begin': MINUTE_OF_DAY,
  'alt-speed-time-end': MINUTE_OF_DAY,
  'alt-speed-time-day': { type: 'integer', min: 0, max: 127 },
  'download-queue-enabled': BOOL,
  'download-queue-size': COUNT,
  'seed-queue-enabled': BOOL,
  'seed-queue-size': COUNT,
  'queue-stalled-enabled': BOOL,
  'queue-stalled-minutes': COUNT,
  'ratio-limit': { type: 'number', min: 0, max: 1e9 },
  'ratio-limit-enabled': BOOL,
  'idle-seeding-limit': COUNT,
  'idle-seeding-limit-enabled': BOOL,
  'rpc-enabled': BOOL,
  'rpc-port': PORT,
  'rpc-bind-address': { type: 'string', nonEmpty: true },
  'rpc-url': { type: 'string', nonEmpty: true },
  'rpc-authentication-required': BOOL,
  'rpc-username': TEXT,
  'rpc-password': TEXT,
  'rpc-whitelist': TEXT,
  'rpc-whitelist-enabled': BOOL,
  'rpc-host-whitelist': TEXT,
  'rpc-host-whitelist-enabled': BOOL,
  'cache-size-mb': { type: 'integer', min: 0, max: 65536 },
  'open-file-limit': { type: 'integer', min: 8, max: 65536 },
  'message-level': { type: 'integer', min: 0, max: 6 },
};

/** Transmission's defaults where they make sense; `download-dir` is `<home>/Downloads`. */
export function defaultSettings(home: string): DaemonSettings {
  return {
    'download-dir': join(home, 'Downloads'),
    'start-added-torrents': true,
    'peer-port': 51413,
    'bind-address-ipv4': '0.0.0.0',
    'bind-address-ipv6': '::',
    'peer-limit-global': 200,
    'peer-limit-per-torrent': 50,
    'upload-slots-per-torrent': 8,
    encryption: 1,
    'dht-enabled': true,
    'pex-enabled': true,
    'utp-enabled': true,
    'lpd-enabled': false,
    'port-forwarding-enabled': false,
    'speed-limit-down': 100,
    'speed-limit-down-enabled': false,
    'speed-limit-up': 100,
    'speed-limit-up-enabled': false,
    'alt-speed-down': 50,
    'alt-speed-up': 50,
    'alt-speed-enabled': false,
    'alt-speed-time-enabled': false,
    'alt-speed-time-begin': 540,
    'alt-speed-time-end': 1020,
    'alt-speed-time-day': 127,
    'download-queue-enabled': true,
    'download-queue-size': 5,
    'seed-queue-enabled': false,
    'seed-queue-size': 10,
    'queue-stalled-enabled': true,
    'queue-stalled-minutes': 30,
    'ratio-limit': 2,
    'ratio-limit-enabled': false,
    'idle-seeding-limit': 30,
    'idle-seeding-limit-enabled': false,
    'rpc-enabled': true,
    'rpc-port': 9091,
    'rpc-bind-address': '127.0.0.1',
    'rpc-url': '/transmission/',
    'rpc-authentication-required': false,
    'rpc-username': '',
    'rpc-password': '',
    'rpc-whitelist': '127.0.0.1,::1',
    'rpc-whitelist-enabled': true,
    'rpc-host-whitelist': '',
    'rpc-host-whitelist-enabled': true,
    'cache-size-mb': 4,
    'open-file-limit': DEFAULT_MAX_OPEN_FILES,
    'message-level': 2,
  };
}

/** Keys a true value of which asks for something Lodestone does not do (reported, kept false). */
export const UNSUPPORTED_WHEN_TRUE: ReadonlySet<string> = new Set(['lpd-enabled', 'port-forwarding-enabled']);

export function isKnownSetting(key: string): key is keyof DaemonSettings {
  return Object.hasOwn(SETTING_KINDS, key);
}

/** What {@link validateSettingsPatch} found: the known keys' checked values, and the others. */
export interface ValidatedPatch {
  known: Partial<DaemonSettings>;
  /** Keys the daemon does not know, with their values untouched (kept in the file). */
  unknown: Record<string, unknown>;
}

function describeKind(kind: Kind): string {
  switch (kind.type) {
    case 'boolean':
      return 'true or false';
    case 'string':
      return kind.nonEmpty ? 'a non-empty string' : 'a string';
    case 'integer':
      return `a whole number from ${kind.min} to ${kind.max}`;
    case 'number':
      return `a number from ${kind.min} to ${kind.max}`;
  }
}

function valid(kind: Kind, value: unknown): boolean {
  switch (kind.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && (!kind.nonEmpty || value !== '') && !value.includes('\0');
    case 'integer':
      return Number.isInteger(value) && (value as number) >= kind.min && (value as number) <= kind.max;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= kind.min && value <= kind.max;
  }
}

function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Checks every key of `patch` (a parsed JSON object, or anything): throws on the first invalid
 * known key, before anything is applied. Unknown keys are returned as they are.
 */
export function validateSettingsPatch(patch: unknown, where = 'settings'): ValidatedPatch {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw new DaemonError('LODESTONE_ERR_DAEMON_SETTINGS', `${where} must be a JSON object`);
  const known: Record<string, unknown> = {};
  const others: [string, unknown][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (!isKnownSetting(key)) {
      others.push([key, value]);
      continue;
    }
    const kind = SETTING_KINDS[key];
    if (!valid(kind, value))
      throw new DaemonError(
        'LODESTONE_ERR_DAEMON_SETTINGS',
        `${key} must be ${describeKind(kind)}, not ${shown(value)} (in ${where})`,
      );
    known[key] = value;
  }
  // fromEntries defines own properties: a `__proto__` key stays a key, never a prototype.
  return { known: known as Partial<DaemonSettings>, unknown: Object.fromEntries(others) };
}

/** The keys whose value differs between two settings objects. */
export function changedKeys(before: DaemonSettings, after: DaemonSettings): (keyof DaemonSettings)[] {
  return (Object.keys(SETTING_KINDS) as (keyof DaemonSettings)[]).filter((key) => before[key] !== after[key]);
}

/**
 * Keys that take effect only when the daemon starts again: they shape the client (its listener,
 * UDP socket, DHT node, encryption), which is made once per run.
 */
export const AT_RESTART: ReadonlySet<keyof DaemonSettings> = new Set<keyof DaemonSettings>([
  'peer-port',
  'bind-address-ipv4',
  'cache-size-mb',
  'encryption',
  'dht-enabled',
  'utp-enabled',
  'rpc-enabled',
  'rpc-port',
  'rpc-bind-address',
  'rpc-url',
]);

/**
 * Keys stored, saved and shown, but not acted on by this build: the first two have no knob in the
 * client yet; the queue and seeding limits are applied by `Scheduler.applyQueue` and
 * `applySeedLimits` (src/daemon/scheduler.ts). Remove a key from here when it is applied.
 */
export const NOT_APPLIED_YET: ReadonlySet<keyof DaemonSettings> = new Set<keyof DaemonSettings>([
  // No knob in the client yet: one listen address, PEX always on.
  'bind-address-ipv6',
  'pex-enabled',
]);

/**
 * Sorts the keys of a settings update by what happens to them; a true `lpd-enabled` or
 * `port-forwarding-enabled` is turned off in `next` (unsupported).
 */
export function classifySettingsUpdate(
  keys: readonly (keyof DaemonSettings)[],
  next: DaemonSettings,
  unknown: string[],
): { applied: string[]; unknown: string[]; atRestart: string[]; unsupported: string[] } {
  const update = { applied: [] as string[], unknown, atRestart: [] as string[], unsupported: [] as string[] };
  for (const key of keys) {
    if (UNSUPPORTED_WHEN_TRUE.has(key) && next[key] === true) {
      (next as unknown as Record<string, unknown>)[key] = false;
      update.unsupported.push(key);
    } else if (NOT_APPLIED_YET.has(key)) update.unsupported.push(key);
    else if (AT_RESTART.has(key)) update.atRestart.push(key);
    else update.applied.push(key);
  }
  return update;
}

/** The log lines of a settings update: unknown keys, keys not acted on, keys waiting for a restart. */
export function describeSettingsUpdate(update: {
  unknown: string[];
  atRestart: string[];
  unsupported: string[];
}): string[] {
  return [
    ...update.unknown.map((key) => `settings: unknown key "${key}" kept, ignored`),
    ...update.unsupported.map(
      (key) => `settings: ${key} saved but not applied (not supported by this build)`,
    ),
    ...update.atRestart.map((key) => `settings: ${key} applies at the next start`),
  ];
}
