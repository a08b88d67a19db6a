/**
 * The real `lodestone daemon` (the CLI bundle) for end-to-end tests: started on a temp state
 * folder with its RPC on 127.0.0.1 (port read from its log line), talked to over HTTP the way
 * Transmission clients do (409 → session id, basic auth), stopped by its PID.
 */
import type { TestContext } from 'node:test';
import { type CliRun, runCli } from './lodestone-cli.js';

export interface DaemonProcess {
  run: CliRun;
  pid: number;
  rpcPort: number;
  /** The port the daemon listens on for peers (from its `ready` log line). */
  peerPort: number;
  /** Everything the daemon wrote on stderr so far (its log). */
  log(): string;
  /** One RPC call; throws unless `result` is "success". */
  rpc<T = Record<string, unknown>>(method: string, args?: Record<string, unknown>): Promise<T>;
  /** Resolves once the log matches `pattern` (the whole log so far is searched). */
  waitLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM and wait for the exit (SIGKILL after 3 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL and wait for the exit. */
  kill9(): Promise<void>;
}

export interface DaemonProcessOptions {
  stateDir: string;
  downloadDir: string;
  /** Peer address (`--bind`). */
  host: string;
  username?: string;
  password?: string;
  /** The RPC's address (`--rpc-bind-address`). @default '127.0.0.1' */
  rpcHost?: string;
  extra?: string[];
}

export async function startDaemonProcess(
  t: TestContext,
  options: DaemonProcessOptions,
): Promise<DaemonProcess> {
  const args = [
    'daemon',
    '--state-dir',
    options.stateDir,
    '--download-dir',
    options.downloadDir,
    '--port',
    '0',
    '--bind',
    options.host,
    '--rpc-port',
    '0',
    ...(options.username !== undefined ? ['--rpc-username', options.username] : []),
    ...(options.password !== undefined ? ['--rpc-password', options.password] : []),
    ...(options.rpcHost !== undefined ? ['--rpc-bind-address', options.rpcHost] : []),
    ...(options.extra ?? []),
  ];
  const run = runCli(args, { env: { XDG_STATE_HOME: `${options.stateDir}/xdg-unused` } });
  t.after(() => run.stop());
  let text = '';
  const listeners = new Set<() => void>();
  run.child.stderr!.on('data', (chunk: string) => {
    text += chunk;
    for (const listener of listeners) listener();
  });
  let exited = false;
  void run.exited.then(() => {
    exited = true;
    for (const listener of listeners) listener();
  });
  const waitLog = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = text.match(pattern);
        if (found) {
          done();
          resolve(found);
        } else if (exited) {
          done();
          reject(new Error(`daemon exited before ${pattern}: ${text.slice(-3000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} in the daemon log within ${timeoutMs} ms: ${text.slice(-3000)}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  const rpcHost = options.rpcHost ?? '127.0.0.1';
  const port = Number(
    (await waitLog(new RegExp(`rpc: listening on http://${rpcHost.replace(/\./g, '\\.')}:(\\d+)/`)))[1],
  );
  const peerPort = Number((await waitLog(/ info ready: peer port (\d+)/))[1]);
  const authorization =
    options.username !== undefined
      ? `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`
      : undefined;
  const rpc = transmissionRpc(`http://${rpcHost}:${port}/transmission/rpc`, authorization);
  return {
    run,
    pid: run.child.pid!,
    rpcPort: port,
    peerPort,
    log: () => text,
    rpc,
    waitLog,
    stop: async () => {
      await run.stop();
      const { code, signal } = await run.exited;
      return { code, signal };
    },
    kill9: async () => {
      if (!exited) run.child.kill('SIGKILL');
      await run.exited;
    },
  };
}

/** Polls `predicate` (async) until it holds; fails with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * A Transmission RPC caller for `url`: the session-id handshake (a 409 hands out the id, the call
 * is made again), basic auth when `authorization` is given; a result other than `success` throws.
 */
export function transmissionRpc(url: string, authorization?: string) {
  let sessionId = '';
  return async <T = Record<string, unknown>>(
    method: string,
    args: Record<string, unknown> = {},
  ): Promise<T> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-transmission-session-id': sessionId,
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ method, arguments: args }),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.status === 409) {
        sessionId = response.headers.get('x-transmission-session-id') ?? '';
        continue;
      }
      const body = (await response.json()) as { result: string; arguments: T };
      if (body.result !== 'success') throw new Error(`${method}: ${body.result}`);
      return body.arguments;
    }
    throw new Error(`${method}: no session id`);
  };
}
