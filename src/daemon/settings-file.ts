/**
 * The settings file (`settings.json`, Transmission's format): read at start and on reload,
 * written atomically on every change with unknown keys kept verbatim and `rpc-password` hashed.
 */
import { DaemonError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../storage/atomic-file.js';
import { hashRpcPassword, isHashedRpcPassword } from './rpc-password.js';
import { defaultSettings, validateSettingsPatch } from './settings.js';
import type { DaemonSettings } from './settings-types.js';

/** What a settings file holds: every known key (defaults for the missing ones) and the others. */
export interface LoadedSettings {
  settings: DaemonSettings;
  unknown: Record<string, unknown>;
  /** False when there was no file (defaults; written at the first save). */
  existed: boolean;
}

/** Reads and checks the file; a missing file is the defaults, anything wrong a DaemonError. */
export async function loadSettingsFile(path: string, home: string): Promise<LoadedSettings> {
  let text: string | undefined;
  try {
    text = await readTextIfExists(path);
  } catch (error) {
    throw new DaemonError(
      'LODESTONE_ERR_DAEMON_SETTINGS',
      `cannot read the settings file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const defaults = defaultSettings(home);
  if (text === undefined) return { settings: defaults, unknown: {}, existed: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DaemonError(
      'LODESTONE_ERR_DAEMON_SETTINGS',
      `the settings file ${path} is not valid JSON: ${(error as Error).message}`,
    );
  }
  const { known, unknown } = validateSettingsPatch(parsed, path);
  return { settings: { ...defaults, ...known }, unknown, existed: true };
}

/** The settings as written: a plain password hashed, unknown keys kept, keys sorted. */
export function settingsFileText(settings: DaemonSettings, unknown: Record<string, unknown>): string {
  const password = settings['rpc-password'];
  const stored: Record<string, unknown> = {
    ...unknown,
    ...settings,
    'rpc-password': password === '' || isHashedRpcPassword(password) ? password : hashRpcPassword(password),
  };
  const sorted = Object.fromEntries(
    Object.keys(stored)
      .sort()
      .map((key) => [key, stored[key]]),
  );
  return `${JSON.stringify(sorted, null, 4)}\n`;
}

export async function saveSettingsFile(
  path: string,
  settings: DaemonSettings,
  unknown: Record<string, unknown>,
): Promise<DaemonSettings> {
  const text = settingsFileText(settings, unknown);
  await writeFileAtomic(path, text);
  // What was written: the hashed password from now on.
  const written = JSON.parse(text) as Record<string, unknown>;
  return { ...settings, 'rpc-password': written['rpc-password'] as string };
}

/**
 * What a reload (SIGHUP) changes: the keys whose value in the file differs from the running
 * settings, and the file's unknown keys (kept, reported).
 */
export function reloadPatch(
  current: DaemonSettings,
  loaded: LoadedSettings,
): { patch: Record<string, unknown>; changed: string[] } {
  const changed = (Object.keys(loaded.settings) as (keyof DaemonSettings)[]).filter(
    (key) => loaded.settings[key] !== current[key],
  );
  const patch = Object.fromEntries([
    ...Object.entries(loaded.unknown),
    ...changed.map((key) => [key, loaded.settings[key]] as const),
  ]);
  return { patch, changed };
}
