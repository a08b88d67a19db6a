/**
 * Debian's Chromium (`/usr/bin/chromium`) driven by playwright-core, for tests of the web client
 * against the real daemon. Playwright never downloads a browser here: the executable is given.
 * The browser runs as a Playwright browser server so its PID is known: `close()` closes it by its
 * handle, and kills its process group by PID if it does not exit promptly. Host names resolve to
 * nothing (`--host-resolver-rules`), so a page can reach only the IP literals it is given
 * (the tests use 127.0.0.0/8), never the internet.
 */
import { accessSync, constants } from 'node:fs';
import type { TestContext } from 'node:test';
import { type Browser, type BrowserServer, chromium } from 'playwright-core';
import { isCI, toolAvailable } from './tools.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** The browser process's PID. */
  pid: number;
  /** Closes the browser; kills it by PID if it is still there after a grace period. Safe twice. */
  close(): Promise<void>;
}

/**
 * True when Chromium is installed; otherwise the test is skipped locally and fails in CI (the
 * same rule as `requireTool`, for a fixed path rather than the PATH).
 */
export function requireChromium(t: TestContext): boolean {
  if (toolAvailable('chromium') || isExecutable(CHROMIUM_PATH)) return true;
  if (isCI()) throw new Error(`chromium (${CHROMIUM_PATH}) is required in CI but is not installed`);
  t.skip('chromium not installed');
  return false;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Launches Chromium headless; `t.after` closes it whatever the test's outcome. */
export async function launchBrowser(t: TestContext): Promise<TestBrowser> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No sandbox (CI runs as root); /tmp instead of a small /dev/shm in containers.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.*'],
    timeout: 30_000,
  });
  const pid = server.process().pid;
  if (pid === undefined) {
    await server.kill();
    throw new Error('chromium started without a PID');
  }
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint(), { timeout: 15_000 });
  } catch (error) {
    await server.kill();
    throw error;
  }
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      await withTimeout(
        browser.close().catch(() => {}),
        5_000,
      );
      await withTimeout(
        server.close().catch(() => {}),
        5_000,
      );
      if (alive(pid)) {
        // The server spawns Chromium as a process-group leader: end the group, then the PID.
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // no such group
        }
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    })();
    return closed;
  };
  t.after(close);
  return { browser, pid, close };
}
