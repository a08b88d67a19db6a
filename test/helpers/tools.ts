import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

/** Whether an executable called `name` is on the PATH (cached). */
export function toolAvailable(name: string): boolean {
  const cached = found.get(name);
  if (cached !== undefined) return cached;
  let available = false;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      available = true;
      break;
    } catch {
      // not in this directory
    }
  }
  found.set(name, available);
  return available;
}

/**
 * Whether we run in CI: `CI` set to anything but empty, `false` or `0` (CI
 * services set `true`, `1` or their name; `.ci/run` exports `CI=true`).
 */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/**
 * True when the tool is installed. Otherwise the test is skipped locally, but
 * fails in CI (see isCI), where a missing tool means a broken environment.
 */
export function requireTool(t: TestContext, name: string): boolean {
  if (toolAvailable(name)) return true;
  if (isCI()) throw new Error(`${name} is required in CI but is not installed`);
  t.skip(`${name} not installed`);
  return false;
}

/** The Python with Debian's python3-libtorrent (a pyenv `python3` earlier on PATH may lack it). */
export const LIBTORRENT_PYTHON = '/usr/bin/python3';

let libtorrentFound: boolean | undefined;

/**
 * True when python3-libtorrent can be imported by LIBTORRENT_PYTHON; otherwise
 * skipped locally and failing in CI, like requireTool.
 */
export function requirePythonLibtorrent(t: TestContext): boolean {
  libtorrentFound ??=
    spawnSync(LIBTORRENT_PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore', timeout: 10_000 }).status ===
    0;
  if (libtorrentFound) return true;
  if (isCI()) throw new Error('python3-libtorrent is required in CI but is not installed');
  t.skip('python3-libtorrent not installed');
  return false;
}
