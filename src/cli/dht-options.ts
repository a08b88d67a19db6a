import { join } from 'node:path';
import type { Client, DhtOptions } from '../index.js';
import type { Reporter } from './reporter.js';
import { resolveStateDir } from './state-dir.js';

/**
 * The routers libtorrent and Transmission join through: the CLI's default `--dht-bootstrap`
 * (looked up only when the DHT starts; tests always pass `--no-dht` or a loopback node).
 */
export const DEFAULT_DHT_ROUTERS = [
  'router.bittorrent.com:6881',
  'router.utorrent.com:6881',
  'dht.transmissionbt.com:6881',
  'dht.libtorrent.org:25401',
];

/** The DHT flags of `download` and `seed`. */
export interface DhtFlags {
  /** `--no-dht` makes it false. */
  dht?: boolean;
  /** `--dht-bootstrap` (repeatable); the public routers when none is given. */
  dhtBootstrap?: string[];
  /** `--state-dir`: the routing table goes to `<dir>/dht.dat`. */
  stateDir?: string;
}

/** The Client's `dht` option from the flags: on by default in the CLI, as in every client. */
export function dhtClientOption(flags: DhtFlags): false | DhtOptions {
  if (flags.dht === false) return false;
  return {
    bootstrap: flags.dhtBootstrap && flags.dhtBootstrap.length > 0 ? flags.dhtBootstrap : DEFAULT_DHT_ROUTERS,
    stateFile: join(resolveStateDir(flags.stateDir), 'dht.dat'),
  };
}

/** How often `--verbose` prints the DHT counters (when they changed). */
const DHT_COUNTERS_EVERY_MS = 30_000;

/**
 * DHT lines and events: `dht-warning` (one line always), `dht-ready`, and with --verbose the
 * counters at most every 30 s and at the end. Returns what to call at the end.
 */
export function reportDht(client: Client, reporter: Reporter, verbose: boolean): () => void {
  client.on('dht-warning', ({ message }) => {
    reporter.log(`lodestone: warning: ${message}`);
    reporter.event('dht-warning', { message });
  });
  client.on('dht-ready', ({ nodes }) => {
    if (verbose) reporter.log(`dht: ready, ${nodes} nodes`);
    reporter.event('dht-ready', { nodes });
  });
  let last = '';
  const line = (): string | undefined => {
    const stats = client.dhtStats;
    if (!stats) return undefined;
    return `dht: ${stats.nodes} nodes (${stats.good} good), ${stats.lookups} lookups, ${stats.peersFound} peers found`;
  };
  const timer = setInterval(() => {
    const text = line();
    if (!verbose || text === undefined || text === last) return;
    last = text;
    reporter.log(text);
  }, DHT_COUNTERS_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    const stats = client.dhtStats;
    if (!stats) return;
    const text = line();
    if (verbose && text !== undefined) reporter.log(text);
    reporter.event('dht', { nodes: stats.nodes, lookups: stats.lookups, peersFound: stats.peersFound });
  };
}
