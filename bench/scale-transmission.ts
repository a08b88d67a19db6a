/**
 * transmission-daemon in the scale row (bench/scale-row.ts): `transmission-daemon -f -g <config>`
 * on loopback (DHT, LPD, PEX, port forwarding and the queues off), the torrents added over RPC
 * with their data in place, seeding when `torrent-get` shows status 6 for all; restart: SIGTERM,
 * a new process on the same config folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../test/helpers/real-clients/index.js';
import { pollFor } from './measure.js';
import {
  addAll,
  allSeeding,
  measureIdle,
  type Rpc,
  rpcClient,
  type ScaleSideResult,
} from './scale-measure.js';

async function startTransmission(
  configDir: string,
  address: string,
  rpcPort: number,
): Promise<{ child: ChildProcess; rpc: Rpc }> {
  const child = spawn('transmission-daemon', ['-f', '-g', configDir], {
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const rpc = rpcClient(`http://${address}:${rpcPort}/transmission/rpc`, 'transmission');
  await pollFor(
    'transmission RPC',
    20_000,
    100,
    async () => {
      try {
        await rpc('session-get', { fields: ['version'] });
        return true;
      } catch {
        return undefined;
      }
    },
    () => (child.exitCode !== null ? `exited with ${child.exitCode}` : undefined),
  );
  return { child, rpc };
}

export async function transmissionSide(
  dir: string,
  address: string,
  torrents: number,
  idleMs: number,
  register: (child: ChildProcess) => () => Promise<void>,
): Promise<ScaleSideResult> {
  const result: ScaleSideResult = { client: 'transmission', torrents };
  const configDir = join(dir, 'transmission');
  await mkdir(configDir, { recursive: true });
  const rpcPort = await freePort(address);
  const settings = {
    'bind-address-ipv4': address,
    'bind-address-ipv6': '::1',
    'peer-port': await freePort(address),
    'peer-port-random-on-start': false,
    'rpc-bind-address': address,
    'rpc-port': rpcPort,
    'rpc-authentication-required': false,
    'rpc-whitelist-enabled': false,
    'rpc-host-whitelist-enabled': false,
    'dht-enabled': false,
    'lpd-enabled': false,
    'pex-enabled': false,
    'utp-enabled': true,
    'port-forwarding-enabled': false,
    'blocklist-enabled': false,
    'download-dir': join(dir, 'data'),
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    'start-added-torrents': true,
    'ratio-limit-enabled': false,
    'idle-seeding-limit-enabled': false,
    'download-queue-enabled': false,
    'seed-queue-enabled': false,
    'queue-stalled-enabled': false,
    'message-level': 1,
  };
  await writeFile(join(configDir, 'settings.json'), JSON.stringify(settings, null, 2));
  const t0 = performance.now();
  const first = await startTransmission(configDir, address, rpcPort);
  const stopFirst = register(first.child);
  try {
    const tAdd = performance.now();
    await addAll(first.rpc, dir, torrents);
    result.addSeconds = (performance.now() - tAdd) / 1000;
    await allSeeding(first.rpc, 'transmission', torrents, 600_000);
    result.firstStartSeconds = (performance.now() - t0) / 1000;
    Object.assign(result, await measureIdle(first.child.pid!, 3000, idleMs));
  } finally {
    await stopFirst();
  }
  const t1 = performance.now();
  const second = await startTransmission(configDir, address, rpcPort);
  const stopSecond = register(second.child);
  try {
    await allSeeding(second.rpc, 'transmission', torrents, 600_000);
    result.restartSeconds = (performance.now() - t1) / 1000;
  } finally {
    await stopSecond();
  }
  return result;
}
