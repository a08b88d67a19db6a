import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CLI_NODE_ENV, CLI_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { safeCliArgs } from './cli-args.js';

/**
 * The `lodestone` command as installed (package.json `bin`): the bundle `npm run build` writes,
 * next to this compiled helper: dist/test/helpers → dist/cli/lodestone.js.
 */
export const CLI_PATH = fileURLToPath(new URL('../../cli/lodestone.js', import.meta.url));

export interface CliEvent {
  type: string;
  [field: string]: unknown;
}

export interface CliRun {
  child: ChildProcess;
  events: CliEvent[];
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves with the first event satisfying `predicate` (rejects if the process exits first). */
  waitFor(predicate: (event: CliEvent) => boolean, timeoutMs?: number): Promise<CliEvent>;
  /** Ends the process by its PID (SIGTERM, SIGKILL after 3 s); safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Runs the Lodestone CLI as a user would, collecting `--json` events when
 * the command prints them. Callers register `t.after(() => run.stop())`.
 */
export function runCli(
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    /** Run under `ulimit -n <n>` (soft and hard), through bash, which then execs node (same PID). */
    openFileLimit?: number;
  } = {},
): CliRun {
  // download/seed never join the public DHT from a test (safeCliArgs adds --no-dht).
  const command = [process.execPath, ...CLI_NODE_FLAGS, CLI_PATH, ...safeCliArgs(args)];
  const limit = options.openFileLimit;
  const [file, ...argv] =
    limit === undefined
      ? command
      : ['bash', '-c', `ulimit -n ${Math.floor(limit)} && exec "$@"`, 'bash', ...command];
  const child = spawn(file!, argv, {
    cwd: options.cwd,
    env: { ...process.env, ...CLI_NODE_ENV, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: CliEvent[] = [];
  const waiters = new Set<{ predicate: (e: CliEvent) => boolean; resolve: (e: CliEvent) => void }>();
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      let event: CliEvent;
      try {
        event = JSON.parse(line) as CliEvent;
      } catch {
        continue;
      }
      events.push(event);
      for (const waiter of waiters) {
        if (waiter.predicate(event)) {
          waiters.delete(waiter);
          waiter.resolve(event);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let done = false;
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      // Let the pipes drain before reporting.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
  return {
    child,
    events,
    exited,
    waitFor(predicate, timeoutMs = 120_000) {
      const found = events.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<CliEvent>((resolve, reject) => {
        const waiter = { predicate, resolve };
        waiters.add(waiter);
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching event within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
        void exited.then(({ code }) => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`lodestone exited (${code}) before the event; stderr: ${stderr.slice(-2000)}`));
        });
        const original = waiter.resolve;
        waiter.resolve = (event) => {
          clearTimeout(timer);
          original(event);
        };
      });
    },
    async stop() {
      if (done || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!done) child.kill('SIGKILL');
      }, 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
