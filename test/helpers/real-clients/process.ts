/**
 * Running a client process: temp profile, output in a log file, stop by PID
 * (SIGTERM, SIGKILL after 3 s), polling its control API with a useful error
 * on timeout, and two safety nets so no client outlives the test process:
 * exit/signal handlers SIGKILL every client still registered, and a small
 * watchdog ends a client whose test process died without running any handler.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, FatalClientState, RealClientError } from './common.js';
import { listensOn } from './net.js';

const STOP_GRACE_MS = 3000;
const LOG_TAIL_LINES = 40;

/** Clients still running, with their folder and watchdog. */
const live = new Map<ChildProcess, { dir: string; watchdog: ChildProcess }>();
let safetyNetInstalled = false;

function killAllSync(): void {
  for (const [child, { dir, watchdog }] of live) {
    for (const target of [child, watchdog]) {
      try {
        target.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    if (process.env.LODESTONE_KEEP_CLIENT_DIRS !== '1') rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      // Keep the default meaning of the signal unless somebody else handles it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export function makeClientDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `lodestone-${name}-`));
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly dir: string;
  readonly logPath: string;
  /** Set once the process has exited, e.g. 'exit code 1' or 'signal SIGKILL'. */
  exitReason(): string | undefined;
  /** Last lines of the log (and of `extraLogs`), for error messages. */
  tail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Spawns `command` (not detached, so it stays in our process group) with
 * stdout and stderr appended to `dir/client.log`. `dir` already exists and is
 * removed by stop(). `extraLogs` are files the client writes itself.
 */
export async function spawnManaged(options: {
  name: string;
  command: string;
  args: string[];
  dir: string;
  extraLogs?: string[];
}): Promise<ManagedProcess> {
  installSafetyNet();
  const logPath = join(options.dir, 'client.log');
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.command, options.args, {
      cwd: options.dir,
      detached: false,
      stdio: ['ignore', logFd, logFd],
    });
  } finally {
    closeSync(logFd); // the child holds its own copy
  }
  let exitReason: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = signal === null ? `exit code ${code}` : `signal ${signal}`;
      live.delete(child);
      resolve();
    });
  });
  const spawnError = await new Promise<Error | undefined>((resolve) => {
    child.on('error', resolve); // later errors (a failed kill) must not crash the test process
    child.once('spawn', () => resolve(undefined));
  });
  if (spawnError !== undefined || child.pid === undefined) {
    await rm(options.dir, { recursive: true, force: true });
    throw new RealClientError(`cannot start ${options.command}: ${spawnError?.message ?? 'no pid'}`, {
      cause: spawnError,
    });
  }
  const pid = child.pid;
  const watchdog = startWatchdog(pid, options.dir);
  live.set(child, { dir: options.dir, watchdog });

  let stopping: Promise<void> | undefined;
  const tail = async (lines = LOG_TAIL_LINES) => {
    const parts = [`--- last ${lines} lines of ${logPath} ---\n${await tailFile(logPath, lines)}`];
    for (const extra of options.extraLogs ?? []) {
      parts.push(`--- last ${lines} lines of ${extra} ---\n${await tailFile(extra, lines)}`);
    }
    return parts.join('\n');
  };
  return {
    name: options.name,
    pid,
    dir: options.dir,
    logPath,
    exitReason: () => exitReason,
    tail,
    stop() {
      stopping ??= (async () => {
        if (exitReason === undefined) {
          child.kill('SIGTERM');
          if (!(await settlesWithin(exited, STOP_GRACE_MS))) {
            child.kill('SIGKILL');
            await settlesWithin(exited, STOP_GRACE_MS);
          }
        }
        live.delete(child);
        watchdog.kill();
        if (process.env.LODESTONE_KEEP_CLIENT_DIRS !== '1') {
          await rm(options.dir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

// Ends the client when the test process disappears without running any
// handler (SIGKILL, a crashed runner): checks every second that both are
// alive; once the parent is gone, SIGTERM then SIGKILL to the client's PID
// and removes its folder. Quits by itself as soon as the client has exited.
const WATCHDOG_SCRIPT = `
parent=$1; child=$2; dir=$3; keep=$4
while kill -0 "$parent" 2>/dev/null; do
  kill -0 "$child" 2>/dev/null || exit 0
  sleep 1
done
kill -TERM "$child" 2>/dev/null
sleep 3
kill -KILL "$child" 2>/dev/null
[ "$keep" = 1 ] || rm -rf "$dir"
`;

function startWatchdog(pid: number, dir: string): ChildProcess {
  const keep = process.env.LODESTONE_KEEP_CLIENT_DIRS === '1' ? '1' : '0';
  // Own session, so a Ctrl-C or a group kill of the test process does not take it along.
  const watchdog = spawn(
    '/bin/sh',
    ['-c', WATCHDOG_SCRIPT, 'lodestone-watchdog', String(process.pid), String(pid), dir, keep],
    {
      detached: true,
      stdio: 'ignore',
    },
  );
  watchdog.on('error', () => undefined); // best effort; the exit handlers still apply
  watchdog.unref();
  return watchdog;
}

async function tailFile(path: string, lines: number): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    // Some clients colour their console output; escape codes only clutter an error message.
    return text
      .replace(/\x1b\[[0-9;]*m/g, '')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch (error) {
    return `(unreadable: ${(error as Error).message})`;
  }
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` until it reports done. A thrown error counts as "not yet"
 * (the control API may still be starting) unless it is a FatalClientState.
 * Fails at once when the process exits; on timeout the message carries the
 * last status seen and the log's last lines.
 */
export async function pollUntil(
  proc: ManagedProcess,
  what: string,
  timeoutMs: number,
  check: () => Promise<{ done: boolean; status: string }>,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastStatus = '(no answer yet)';
  for (;;) {
    const exit = proc.exitReason();
    if (exit !== undefined) {
      throw new RealClientError(
        `${proc.name} (pid ${proc.pid}) exited (${exit}) while waiting for ${what}; last status: ${lastStatus}\n${await proc.tail()}`,
        { retriable: true },
      );
    }
    try {
      const result = await check();
      lastStatus = result.status;
      if (result.done) return;
    } catch (error) {
      if (error instanceof FatalClientState) {
        throw new RealClientError(
          `${proc.name} failed while waiting for ${what}: ${error.message}\n${await proc.tail()}`,
        );
      }
      lastStatus = `error: ${(error as Error).message}`;
    }
    if (Date.now() > deadline) {
      throw new RealClientError(
        `${proc.name} (pid ${proc.pid}): timed out after ${timeoutMs} ms waiting for ${what}; last status: ${lastStatus}\n${await proc.tail()}`,
      );
    }
    await delay(intervalMs);
  }
}

/**
 * Runs `attempt` up to three times when start-up failed retriably (the client
 * died, or never listened on its port) and the ports were picked by us: another
 * process may have grabbed one between freePort() and the client's bind. With
 * caller-chosen ports it runs once.
 */
export async function retryStart<T>(portsChosenByCaller: boolean, attempt: () => Promise<T>): Promise<T> {
  for (let round = 1; ; round++) {
    try {
      return await attempt();
    } catch (error) {
      const retriable = error instanceof RealClientError && error.retriable;
      if (!retriable || portsChosenByCaller || round >= 3) throw error;
    }
  }
}

/** For clients that bind at start-up: waits until they listen, else a retriable error. */
export async function waitListening(proc: ManagedProcess, address: string, port: number): Promise<void> {
  try {
    await pollUntil(proc, `a listening socket on ${address}:${port}`, 10_000, async () => ({
      done: await listensOn(proc.pid, address, port),
      status: 'not listening',
    }));
  } catch (error) {
    throw new RealClientError((error as Error).message, { retriable: true, cause: error });
  }
}

/**
 * Turns "the control API says seeding" into "seeding and reachable": done once
 * the process also listens on address:port and, when `servesTorrent` is given,
 * answers a handshake for the torrent with every piece (qBittorrent reports
 * seeding up to ~1 s before it accepts peers). A FatalClientState if it still
 * does not listen 3 s after reporting seeding (port taken by someone else?).
 */
export function seedingGuard(
  proc: ManagedProcess,
  address: string,
  port: number,
  servesTorrent?: () => Promise<boolean>,
) {
  let reportedSince: number | undefined;
  return async (reportsSeeding: boolean): Promise<{ done: boolean; note: string }> => {
    if (!reportsSeeding) {
      reportedSince = undefined;
      return { done: false, note: '' };
    }
    if (!(await listensOn(proc.pid, address, port))) {
      reportedSince ??= Date.now();
      if (Date.now() - reportedSince > 3000) {
        throw new FatalClientState(`reports seeding but does not listen on ${address}:${port} (port taken?)`);
      }
      return { done: false, note: `; not listening on ${address}:${port} yet` };
    }
    if (servesTorrent !== undefined && !(await servesTorrent())) {
      return { done: false, note: '; no complete handshake+bitfield answer yet' };
    }
    return { done: true, note: '' };
  };
}
