/** The one {@link Client} a daemon runs its torrents on, made from its settings. */
import { join } from 'node:path';
import { Client } from '../session/client.js';
import { DirectoryResumeStore } from '../storage/resume-store.js';
import type { DaemonOptions } from './daemon-types.js';
import type { DaemonSettings } from './settings-types.js';
import type { StateFolder } from './state-folder.js';

/**
 * Listening on `peer-port` at `bind-address-ipv4` (every address when it is `0.0.0.0`), with the
 * encryption, uTP, DHT and per-torrent peer limit the settings ask for, and resume records in the
 * state folder. These settings apply when the daemon starts (the client is made once per run).
 */
export function clientFor(settings: DaemonSettings, folder: StateFolder, options: DaemonOptions): Client {
  const bind = settings['bind-address-ipv4'] !== '0.0.0.0' ? settings['bind-address-ipv4'] : undefined;
  const encryption = settings.encryption === 0 ? 'allow' : settings.encryption === 1 ? 'prefer' : 'require';
  return new Client({
    ...options.client,
    port: settings['peer-port'],
    ...(bind ? { bindAddress: bind } : {}),
    maxPeersPerTorrent: settings['peer-limit-per-torrent'],
    maxPeers: settings['peer-limit-global'],
    readCacheBytes: Math.max(settings['cache-size-mb'], 1) * 1024 * 1024,
    encryption,
    utp: settings['utp-enabled'],
    resume: new DirectoryResumeStore(folder.resumeDir),
    dht: settings['dht-enabled'] ? { stateFile: join(folder.dir, 'dht.dat'), ...options.dht } : false,
  });
}
