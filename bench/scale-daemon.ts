/**
 * `lodestone daemon` in the scale row (bench/scale-row.ts): the real daemon process (the CLI
 * bundle, dist/cli/lodestone.js), driven as transmission-daemon is: its settings file written
 * first with the same choices (loopback, no DHT, the queues and seed limits off), every torrent
 * added over RPC (`torrent-add` with the data in place, `download-dir` set), seeding when
 * `torrent-get` shows status 6 for all; restart: SIGTERM, a new daemon on the same state folder.
 * The pieces hashed at restart are read from the daemon's own debug lines
 * (`torrent N: ready, V pieces verified, H hashed`, one per torrent start).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchError, pollFor } from './measure.js';
import { measureRpcSide, type Rpc, rpcClient, type ScaleSideResult } from './scale-measure.js';

const CLI = fileURLToPath(new URL('../cli/lodestone.js', import.meta.url));

interface RunningDaemon {
  child: ChildProcess;
  rpc: Rpc;
  /** Torrent starts seen so far (`ready` lines) and the pieces they hashed. */
  readies(): { count: number; hashed: number };
}

async function startDaemon(stateDir: string, address: string): Promise<RunningDaemon> {
  if (!existsSync(CLI)) throw new BenchError(`${CLI} is missing: run npm run build`);
  const args = [CLI, 'daemon', '--state-dir', stateDir, '--bind', address, '--port', '0'];
  args.push('--rpc-bind-address', address, '--rpc-port', '0', '--no-dht', '--log-level', 'debug');
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  let partial = '';
  let rpcUrl: string | undefined;
  let ready = false;
  let count = 0;
  let hashed = 0;
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-3000);
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const started = / debug torrent \d+: ready, \d+ pieces verified, (\d+) hashed$/.exec(line);
      if (started) {
        count++;
        hashed += Number(started[1]);
        continue;
      }
      const listening = / info rpc: listening on (http:\/\/\S+)$/.exec(line);
      if (listening) rpcUrl = listening[1];
      else if (/ info ready: peer port \d+/.test(line)) ready = true;
    }
  });
  await pollFor(
    'lodestone daemon ready',
    60_000,
    50,
    async () => (ready && rpcUrl !== undefined ? true : undefined),
    () => (child.exitCode !== null ? `exited with ${child.exitCode}: ${tail}` : undefined),
  );
  return { child, rpc: rpcClient(rpcUrl!, 'lodestone daemon'), readies: () => ({ count, hashed }) };
}

export async function daemonSide(
  dir: string,
  address: string,
  torrents: number,
  idleMs: number,
  register: (child: ChildProcess) => () => Promise<void>,
): Promise<ScaleSideResult> {
  const result: ScaleSideResult = { client: 'lodestone', side: 'daemon', torrents };
  const stateDir = join(dir, 'lodestone-daemon');
  await mkdir(stateDir, { recursive: true });
  // Transmission's choices in the row (bench/scale-transmission.ts), in the same keys.
  const settings = {
    'download-dir': join(dir, 'data'),
    'start-added-torrents': true,
    'utp-enabled': true,
    'dht-enabled': false,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'rpc-authentication-required': false,
  };
  await writeFile(join(stateDir, 'settings.json'), JSON.stringify(settings, null, 2));
  await measureRpcSide(
    {
      name: 'lodestone daemon',
      dir,
      torrents,
      idleMs,
      start: () => startDaemon(stateDir, address),
      register,
      afterRestart: async (second) => {
        // Every torrent's ready line comes before it shows as seeding.
        await pollFor('lodestone daemon ready lines', 10_000, 50, async () =>
          second.readies().count >= torrents ? true : undefined,
        );
        result.restartPiecesHashed = second.readies().hashed;
      },
    },
    result,
  );
  return result;
}
