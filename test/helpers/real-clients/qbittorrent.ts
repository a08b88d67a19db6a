/**
 * qbittorrent-nox (libtorrent-rasterbar 2) as a seeder or leecher on its own
 * loopback address, with its own `--profile` and qBittorrent.conf written
 * before start, driven through the WebUI API v2 on the same address.
 *
 * Traps (docs/interop.md, qBittorrent), checked against the config 4.5.2 writes back:
 * - Without `[LegalNotice] Accepted=true` it waits on stdin forever.
 * - `[Network] PortForwardingEnabled` (UPnP/NAT-PMP) and `[Preferences]
 *   Connection\ResolvePeerCountries` (GeoIP download) must be off, DHT/LSD/PeX
 *   too: nothing may leave the machine.
 * - `Session\QueueingSystemEnabled` defaults to true and would queue torrents.
 * - libtorrent listens on "address%lo" for TCP and also binds UDP on the port.
 * - The WebUI needs LocalHostAuth=false plus the 127.0.0.0/8 whitelist, and no
 *   CSRF/Host-header checks, to be scripted without logging in.
 * - On SIGTERM it exits cleanly in ~1 s.
 *
 * Usage: `const seeder = await startQbittorrentSeeder({...}); t.after(() => seeder.stop());`
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  DEFAULT_WAIT_MS,
  FatalClientState,
  type LeecherPlacement,
  RealClientError,
  type RealClientHandle,
  type RealLeecherHandle,
  type SeederPlacement,
} from './common.js';
import { readTorrentFacts, type TorrentFacts } from './content.js';
import { freePort, httpRequest } from './net.js';
import { servesCompleteTorrent } from './probes.js';
import {
  type ManagedProcess,
  makeClientDir,
  pollUntil,
  retryStart,
  seedingGuard,
  spawnManaged,
  waitListening,
} from './process.js';

export interface QbittorrentSeederOptions extends SeederPlacement {
  /** WebUI port on `address`. @default a free port */
  webUiPort?: number;
  /** Extra `Key=value` lines per section, e.g. { BitTorrent: ['Session\\MaxUploads=4'] }; a key given here replaces the generated one. */
  extraConfig?: Record<string, string[]>;
}

export interface QbittorrentLeecherOptions extends LeecherPlacement {
  webUiPort?: number;
  extraConfig?: Record<string, string[]>;
}

interface TorrentInfo {
  hash: string;
  state: string;
  progress: number;
  completed: number;
  size: number;
  amount_left: number;
}

const SEEDING_STATES = new Set(['uploading', 'stalledUP', 'forcedUP', 'queuedUP']);
const FATAL_STATES = new Set(['error', 'missingFiles']);

export function startQbittorrentSeeder(options: QbittorrentSeederOptions): Promise<RealClientHandle> {
  return startQbittorrent('qbittorrent-seeder', options, options.dataDir, {
    torrentPath: options.torrentPath,
  });
}

export async function startQbittorrentLeecher(
  options: QbittorrentLeecherOptions,
): Promise<RealLeecherHandle> {
  if ((options.torrentPath === undefined) === (options.magnet === undefined)) {
    throw new RealClientError('startQbittorrentLeecher needs exactly one of torrentPath and magnet');
  }
  return startQbittorrent('qbittorrent-leecher', options, options.outDir, {
    torrentPath: options.torrentPath,
    magnet: options.magnet,
  });
}

function configText(
  address: string,
  port: number,
  webUiPort: number,
  savePath: string,
  extra: Record<string, string[]> = {},
): string {
  const sections: Record<string, string[]> = {
    LegalNotice: ['Accepted=true'],
    Network: ['PortForwardingEnabled=false'],
    BitTorrent: [
      `Session\\Port=${port}`,
      `Session\\InterfaceAddress=${address}`,
      'Session\\DHTEnabled=false',
      'Session\\LSDEnabled=false',
      'Session\\PeXEnabled=false',
      'Session\\MultiConnectionsPerIp=true',
      'Session\\QueueingSystemEnabled=false',
      'Session\\BTProtocol=TCP',
      'Session\\Encryption=0', // allow plaintext peers
      'Session\\AnonymousModeEnabled=false',
      'Session\\SSRFMitigation=false',
      'Session\\MaxConnections=2000',
      'Session\\MaxConnectionsPerTorrent=1000',
      'Session\\MaxUploads=-1',
      'Session\\MaxUploadsPerTorrent=-1',
      'Session\\Preallocation=false',
      'Session\\TempPathEnabled=false',
      `Session\\DefaultSavePath=${savePath}`,
    ],
    Preferences: [
      'Connection\\ResolvePeerCountries=false',
      `WebUI\\Address=${address}`,
      `WebUI\\Port=${webUiPort}`,
      'WebUI\\UseUPnP=false',
      'WebUI\\LocalHostAuth=false',
      'WebUI\\AuthSubnetWhitelistEnabled=true',
      'WebUI\\AuthSubnetWhitelist=127.0.0.0/8',
      'WebUI\\CSRFProtection=false',
      'WebUI\\HostHeaderValidation=false',
      'WebUI\\ClickjackingProtection=false',
    ],
  };
  // An extra line replaces a generated one with the same key (a setting back at its default).
  const keyOf = (line: string) => line.slice(0, line.indexOf('='));
  for (const [section, lines] of Object.entries(extra)) {
    const replaced = new Set(lines.map(keyOf));
    sections[section] = [...(sections[section] ?? []).filter((line) => !replaced.has(keyOf(line))), ...lines];
  }
  return Object.entries(sections)
    .map(([section, lines]) => `[${section}]\n${lines.join('\n')}\n`)
    .join('\n');
}

async function startQbittorrent(
  name: string,
  options: { address: string; port?: number; webUiPort?: number; extraConfig?: Record<string, string[]> },
  savePath: string,
  source: { torrentPath?: string; magnet?: string },
): Promise<RealLeecherHandle> {
  const torrent = source.torrentPath === undefined ? undefined : await readTorrentFacts(source.torrentPath);
  const callerPorts = options.port !== undefined || options.webUiPort !== undefined;
  return retryStart(callerPorts, async () => {
    const port = options.port ?? (await freePort(options.address));
    const webUiPort = options.webUiPort ?? (await freePort(options.address));
    const dir = await makeClientDir(name);
    const configDir = join(dir, 'qBittorrent', 'config');
    await mkdir(configDir, { recursive: true });
    await writeFile(
      join(configDir, 'qBittorrent.conf'),
      configText(options.address, port, webUiPort, savePath, options.extraConfig),
    );
    const proc = await spawnManaged({
      name,
      command: 'qbittorrent-nox',
      args: [`--profile=${dir}`],
      dir,
      extraLogs: [join(dir, 'qBittorrent', 'data', 'logs', 'qbittorrent.log')],
    });
    const api = `http://${options.address}:${webUiPort}/api/v2`;
    try {
      await pollUntil(proc, 'its WebUI', 20_000, async () => {
        const response = await httpRequest(`${api}/app/version`);
        return { done: response.status === 200, status: `HTTP ${response.status}` };
      });
      await waitListening(proc, options.address, port); // binds at start-up: a taken port shows here
      await addTorrent(api, savePath, source);
      return makeHandle(proc, options.address, port, api, torrent);
    } catch (error) {
      await proc.stop();
      throw error;
    }
  });
}

async function addTorrent(api: string, savePath: string, source: { torrentPath?: string; magnet?: string }) {
  const boundary = `----lodestone${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  const field = (fieldName: string, value: string) =>
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${fieldName}"\r\n\r\n${value}\r\n`),
    );
  if (source.torrentPath !== undefined) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="torrents"; filename="${basename(source.torrentPath)}"\r\n` +
          'Content-Type: application/x-bittorrent\r\n\r\n',
      ),
      await readFile(source.torrentPath),
      Buffer.from('\r\n'),
    );
  } else {
    field('urls', source.magnet!);
  }
  field('savepath', savePath);
  field('skip_checking', 'false');
  field('paused', 'false');
  field('autoTMM', 'false');
  field('contentLayout', 'Original');
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  const response = await httpRequest(`${api}/torrents/add`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Buffer.concat(parts),
  });
  const text = response.body.toString('utf8').trim();
  if (response.status !== 200 || text !== 'Ok.') {
    throw new RealClientError(`qBittorrent torrents/add answered HTTP ${response.status}: ${text}`);
  }
}

/** The profile is fresh, so the only torrent listed is ours. */
async function torrentInfo(api: string): Promise<TorrentInfo | undefined> {
  const response = await httpRequest(`${api}/torrents/info`);
  if (response.status !== 200) throw new RealClientError(`torrents/info: HTTP ${response.status}`);
  const torrent = (JSON.parse(response.body.toString('utf8')) as TorrentInfo[])[0];
  if (torrent !== undefined && FATAL_STATES.has(torrent.state)) {
    throw new FatalClientState(`torrent ${torrent.hash} is in state ${torrent.state}`);
  }
  return torrent;
}

function describe(info: TorrentInfo | undefined): string {
  if (info === undefined) return 'torrent not listed yet';
  return `${info.state} progress ${info.progress} (${info.completed}/${info.size}, ${info.amount_left} left)`;
}

function isComplete(info: TorrentInfo | undefined): boolean {
  return (
    info !== undefined &&
    info.progress === 1 &&
    info.size > 0 &&
    info.amount_left === 0 &&
    !info.state.startsWith('checking') &&
    info.state !== 'metaDL'
  );
}

function makeHandle(
  proc: ManagedProcess,
  address: string,
  port: number,
  api: string,
  torrent: TorrentFacts | undefined,
): RealLeecherHandle {
  const listening = seedingGuard(
    proc,
    address,
    port,
    torrent && (() => servesCompleteTorrent(address, port, torrent)),
  );
  return {
    name: proc.name,
    pid: proc.pid,
    address,
    port,
    dir: proc.dir,
    logPath: proc.logPath,
    waitSeeding: (timeoutMs = DEFAULT_WAIT_MS) =>
      pollUntil(proc, 'seeding (100 % verified)', timeoutMs, async () => {
        const info = await torrentInfo(api);
        const reportsSeeding = isComplete(info) && SEEDING_STATES.has(info!.state);
        const { done, note } = await listening(reportsSeeding);
        return { done, status: `${describe(info)}${note}` };
      }),
    waitComplete: (timeoutMs = DEFAULT_WAIT_MS) =>
      pollUntil(proc, 'download complete', timeoutMs, async () => {
        const info = await torrentInfo(api);
        return { done: isComplete(info), status: describe(info) };
      }),
    async reannounce() {
      const response = await httpRequest(`${api}/torrents/reannounce`, {
        method: 'POST', // 4.5 answers 405 to GET
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'hashes=all',
      });
      if (response.status !== 200) throw new RealClientError(`torrents/reannounce: HTTP ${response.status}`);
    },
    async progress() {
      const info = await torrentInfo(api);
      return { completedBytes: info?.completed ?? 0, totalBytes: info?.size ?? 0 };
    },
    stop: () => proc.stop(),
  };
}
