/**
 * `lodestone daemon`: runs the daemon until SIGTERM/SIGINT (every torrent stopped cleanly, state
 * written, exit 0); SIGHUP reloads the settings file. Logs go to stderr, one line per event with
 * its time and level.
 */
import { Daemon, type LogLevel, type RpcServer, startRpcServer } from '../../daemon/index.js';
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
  let rpc: RpcServer | undefined;
  let stop: (reason: string) => void = () => {};
  if (daemon.settings()['rpc-enabled']) {
    try {
      rpc = await startRpcServer(daemon, {
        configDir: daemon.stateDir,
        ...(flags.webRoot !== undefined ? { webRoot: flags.webRoot } : {}),
        log,
        onSessionClose: () => stop('session-close'),
      });
    } catch (error) {
      await daemon.close();
      throw error;
    }
    if (flags.webRoot !== undefined)
      log('info', `web client at ${daemon.settings()['rpc-url']}web/ from ${flags.webRoot}`);
  } else log('info', 'RPC disabled (rpc-enabled is false)');
  log('info', `ready: peer port ${daemon.client.port}, ${daemon.torrents().length} torrents`);
  return await new Promise<number>((resolve) => {
    let stopping = false;
    stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log('info', `${signal}: stopping every torrent`);
      (rpc ? rpc.close() : Promise.resolve())
        .catch((error: unknown) => log('error', `RPC: ${(error as Error).message}`))
        .then(() => daemon.close())
        .then(
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
