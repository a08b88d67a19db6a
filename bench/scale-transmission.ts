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
import { measureRpcSide, type Rpc, rpcClient, type ScaleSideResult } from './scale-measure.js';

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
  await measureRpcSide(
    {
      name: 'transmission',
      dir,
      torrents,
      idleMs,
      start: () => startTransmission(configDir, address, rpcPort),
      register,
    },
    result,
  );
  return result;
}
