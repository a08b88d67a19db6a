import { resolve } from 'node:path';
import {
  Client,
  describeMessage,
  formatBytes,
  LodestoneError,
  type PeerAddress,
  parseAddress,
  type TorrentMetadata,
  type TorrentSession,
} from '../../index.js';
import { ExitCode } from '../exit-codes.js';
import { chooseMode, Reporter } from '../reporter.js';
import { loadSource } from '../source.js';
import { fetchMetadata } from './fetch-metadata.js';

export interface DownloadOptions {
  output: string;
  port: string;
  bind?: string;
  maxPeers: string;
  peer?: string[];
  trackers: boolean;
  seed?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  trace?: boolean;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new LodestoneError('LODESTONE_ERR_USAGE', `invalid port "${text}"`);
  }
  return port;
}

function parsePeers(texts: string[] | undefined): PeerAddress[] {
  return (texts ?? []).map((text) => {
    const address = parseAddress(text);
    if (!address)
      throw new LodestoneError(
        'LODESTONE_ERR_USAGE',
        `invalid peer address "${text}" (use ip:port or [ipv6]:port)`,
      );
    return address;
  });
}

export async function downloadCommand(source: string, options: DownloadOptions): Promise<number> {
  const loaded = await loadSource(source);
  const maxPeers = Number(options.maxPeers);
  if (!Number.isInteger(maxPeers) || maxPeers < 1) {
    throw new LodestoneError('LODESTONE_ERR_USAGE', `invalid --max-peers "${options.maxPeers}"`);
  }
  const reporter = new Reporter(chooseMode(options));
  const client = new Client({
    port: parsePort(options.port),
    maxPeersPerTorrent: maxPeers,
    ...(options.bind ? { bindAddress: options.bind } : {}),
  });
  try {
    await client.listen();
    if (loaded.kind === 'torrent') return await runSession(client, loaded.meta, [], options, reporter);
    const { meta, peers } = await fetchMetadata(client, loaded.link, options, reporter);
    return await runSession(client, meta, peers, options, reporter);
  } finally {
    reporter.stop();
    await client.close();
  }
}

async function runSession(
  client: Client,
  meta: TorrentMetadata,
  discovered: PeerAddress[],
  options: DownloadOptions,
  reporter: Reporter,
): Promise<number> {
  const output = resolve(options.output);
  const peers = [...parsePeers(options.peer), ...discovered];
  if (meta.announceTiers.length === 0 && peers.length === 0) {
    throw new LodestoneError(
      'LODESTONE_ERR_NO_PEER_SOURCE',
      'the torrent has no trackers and no --peer was given: no way to find peers',
    );
  }
  const session = client.add(meta, {
    path: output,
    peers,
    useTrackers: options.trackers,
    trace: options.trace === true,
    seed: options.seed === true,
  });
  reporter.info(`${meta.name}: ${formatBytes(meta.totalLength)} in ${meta.pieceCount} pieces -> ${output}`);
  reporter.event('start', {
    name: meta.name,
    infoHash: meta.infoHashHex,
    totalBytes: meta.totalLength,
    output,
    port: client.port,
  });
  attachLogging(session, options, reporter);

  let fatal: Error | undefined;
  const outcome = new Promise<number>((resolveOutcome) => {
    session.once('done', () => {
      if (!options.seed) resolveOutcome(ExitCode.ok);
      else reporter.info('download complete; seeding until Ctrl-C');
    });
    session.once('error', (error) => {
      fatal = error;
      resolveOutcome(ExitCode.failure);
    });
    const interrupt = (): void => resolveOutcome(ExitCode.interrupted);
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
  });
  const ticker = setInterval(() => reporter.progress(session.stats()), 500);
  try {
    await session.start();
    const code = await outcome;
    if (fatal) throw fatal;
    reporter.progress(session.stats());
    return finish(session, code, reporter);
  } finally {
    clearInterval(ticker);
    await session.stop();
  }
}

function finish(session: TorrentSession, code: number, reporter: Reporter): number {
  const stats = session.stats();
  const seconds = reporter.elapsedSeconds();
  if (code === ExitCode.ok) {
    const rate = stats.downloadedBytes / Math.max(seconds, 0.001);
    reporter.info(
      `done: ${formatBytes(stats.totalLength)} verified in ${seconds.toFixed(1)}s (${formatBytes(rate)}/s)`,
    );
    reporter.event('done', {
      verifiedBytes: stats.verifiedBytes,
      downloadedBytes: stats.downloadedBytes,
      seconds,
    });
    return ExitCode.ok;
  }
  reporter.info(
    `stopped at ${((stats.verifiedBytes / Math.max(stats.totalLength, 1)) * 100).toFixed(1)}%; run the same command again to resume`,
  );
  reporter.event('stopped', { verifiedBytes: stats.verifiedBytes });
  return code;
}

function attachLogging(session: TorrentSession, options: DownloadOptions, reporter: Reporter): void {
  const verbose = options.verbose === true || options.trace === true;
  const log = (text: string): void => {
    if (verbose) reporter.log(text);
  };
  session.on('checking', (p) => {
    if (p.checked === p.total && p.total > 0)
      reporter.info(`checked existing data: ${p.valid}/${p.total} pieces valid`);
    reporter.event('checking', { ...p });
  });
  session.on('tracker-response', ({ url, response }) => {
    log(`tracker ${url}: ${response.peers.length} peers, interval ${response.interval}s`);
    reporter.event('tracker-response', {
      url,
      peers: response.peers.length,
      interval: response.interval,
      seeders: response.seeders,
      leechers: response.leechers,
    });
  });
  session.on('tracker-error', ({ url, message }) => {
    log(`tracker ${url} failed: ${message}`);
    reporter.event('tracker-error', { url, message });
  });
  session.on('tracker-warning', ({ url, message }) => {
    log(`tracker ${url} warns: ${message}`);
    reporter.event('tracker-warning', { url, message });
  });
  session.on('peer-connected', ({ address, direction }) => {
    log(`peer ${address} connected (${direction})`);
    reporter.event('peer-connected', { address, direction });
  });
  session.on('peer-disconnected', ({ address, reason }) => {
    log(`peer ${address} disconnected: ${reason}`);
    reporter.event('peer-disconnected', { address, reason });
  });
  session.on('peer-banned', ({ address, reason }) => {
    reporter.log(`peer ${address} banned: ${reason}`);
    reporter.event('peer-banned', { address, reason });
  });
  session.on('piece-verified', ({ index }) => reporter.event('piece-verified', { index }));
  session.on('piece-failed', ({ index, peers }) => {
    log(`piece ${index} failed its hash check (from ${peers.join(', ')})`);
    reporter.event('piece-failed', { index, peers });
  });
  if (options.trace) {
    session.on('wire', ({ peer, direction, message }) => {
      reporter.log(`${direction === 'in' ? '<-' : '->'} ${peer} ${describeMessage(message)}`);
    });
  }
}
