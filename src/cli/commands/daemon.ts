/**
 * `lodestone daemon`: runs the daemon until SIGTERM/SIGINT (every torrent stopped cleanly, state
 * written, exit 0); SIGHUP reloads the settings file. Logs go to stderr, one line per event with
 * its time and level.
 */
import { Daemon, type LogLevel } from '../../daemon/index.js';
import { VERSION } from '../../index.js';
import { dhtClientOption } from '../dht-options.js';
import { parsePort } from '../options.js';
import { resolveStateDir } from '../state-dir.js';
import { terminalText } from '../terminal-text.js';

export interface DaemonFlags {
  config?: string;
  stateDir?: string;
  downloadDir?: string;
  port?: string;
  peerPort?: string;
  bind?: string;
  rpcPort?: string;
  rpcBindAddress?: string;
  rpcUsername?: string;
  rpcPassword?: string;
  webRoot?: string;
  /** `--no-dht` makes it false. */
  dht?: boolean;
  dhtBootstrap?: string[];
  logLevel?: LogLevel;
}

const RANK: Record<LogLevel, number> = { error: 1, info: 2, debug: 3 };

/** The settings the flags set (checked by the daemon like the file's, then saved). */
export function daemonOverrides(flags: DaemonFlags): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (flags.downloadDir !== undefined) overrides['download-dir'] = flags.downloadDir;
  const peerPort = flags.peerPort ?? flags.port;
  if (peerPort !== undefined) overrides['peer-port'] = parsePort(peerPort);
  if (flags.bind !== undefined) overrides['bind-address-ipv4'] = flags.bind;
  if (flags.rpcPort !== undefined) overrides['rpc-port'] = parsePort(flags.rpcPort);
  if (flags.rpcBindAddress !== undefined) overrides['rpc-bind-address'] = flags.rpcBindAddress;
  if (flags.rpcUsername !== undefined) overrides['rpc-username'] = flags.rpcUsername;
  if (flags.rpcPassword !== undefined) {
    overrides['rpc-password'] = flags.rpcPassword;
    overrides['rpc-authentication-required'] = true;
  }
  if (flags.dht === false) overrides['dht-enabled'] = false;
  return overrides;
}

export async function daemonCommand(flags: DaemonFlags): Promise<number> {
  let daemon: Daemon | undefined;
  // --log-level, else the settings' message-level (read at every line: a settings update applies at once).
  const threshold = (): number =>
    flags.logLevel !== undefined
      ? RANK[flags.logLevel]
      : Math.min(daemon?.settings()['message-level'] ?? 2, 3);
  const log = (level: LogLevel, message: string): void => {
    if (RANK[level] > threshold()) return;
    process.stderr.write(`${new Date().toISOString()} ${level} ${terminalText(message)}\n`);
  };
  const stateDir = resolveStateDir(flags.stateDir);
  const dht = dhtClientOption({ ...flags, stateDir });
  daemon = await Daemon.open({
    stateDir,
    ...(flags.config !== undefined ? { configFile: flags.config } : {}),
    overrides: daemonOverrides(flags),
    ...(dht ? { dht } : {}),
    log,
  });
  log('info', `lodestone ${VERSION} daemon: state folder ${daemon.stateDir}, settings ${daemon.configFile}`);
  // The lead replaces this line with startRpcServer(daemon, { configDir, webRoot, log }) once the RPC is merged.
  log(
    'info',
    `the RPC is not started in this build (rpc-port ${daemon.settings()['rpc-port']}${flags.webRoot ? `, --web-root ${flags.webRoot}` : ''} unused)`,
  );
  log('info', `ready: peer port ${daemon.client.port}, ${daemon.torrents().length} torrents`);
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log('info', `${signal}: stopping every torrent`);
      daemon.close().then(
        () => resolve(0),
        (error: unknown) => {
          log('error', `stopping failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      daemon.reloadSettings().then(
        (update) =>
          log('info', `SIGHUP: settings reloaded; changed: ${update.changed.join(', ') || 'nothing'}`),
        (error: unknown) => log('error', `SIGHUP: settings not reloaded: ${(error as Error).message}`),
      );
    });
  });
}
