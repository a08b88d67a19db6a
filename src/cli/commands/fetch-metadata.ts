import type { Client, MagnetLink, TorrentMetadata } from '../../index.js';
import { describeMessage } from '../../wire/index.js';
import { parseDuration, parsePeers } from '../options.js';
import type { Reporter } from '../reporter.js';

export interface FetchMetadataOptions {
  verbose?: boolean;
  trace?: boolean;
  trackers?: boolean;
  peer?: string[];
  /** `--metadata-timeout`, a duration. @default '5m' */
  metadataTimeout?: string;
}

/**
 * The "fetching metadata" phase of a magnet download, shared by `download`
 * and `metadata`: progress on the reporter, log lines when verbose.
 */
export async function fetchMetadata(
  client: Client,
  link: MagnetLink,
  options: FetchMetadataOptions,
  reporter: Reporter,
): Promise<{ meta: TorrentMetadata; peers: ReturnType<Client['metadataFetcher']>['discoveredPeers'] }> {
  const fetcher = client.metadataFetcher(link, {
    useTrackers: options.trackers !== false,
    trace: options.trace === true,
    peers: parsePeers(options.peer),
    metadataTimeoutMs: parseDuration(options.metadataTimeout ?? '5m', '--metadata-timeout', { min: 1 })!,
  });
  const verbose = options.verbose === true || options.trace === true;
  reporter.info(
    `fetching metadata for ${link.infoHashHex ?? link.v2Hash}${link.name ? ` (${link.name})` : ''}`,
  );
  reporter.event('metadata-start', {
    infoHash: link.infoHashHex,
    trackers: link.trackers.length,
    peers: link.peers.length,
  });
  let lastLine = '';
  fetcher.on('progress', (p) => {
    const line = `fetching metadata: ${p.peers} peers (${p.peersWithMetadata} with metadata), ${p.receivedBlocks}/${p.totalBlocks || '?'} blocks`;
    if (line !== lastLine) {
      lastLine = line;
      reporter.info(line);
    }
    reporter.event('metadata-progress', { ...p });
  });
  fetcher.on('peer-connected', ({ address, transport, encryption }) => {
    if (verbose) reporter.log(`peer ${address} connected (metadata, ${transport}, ${encryption})`);
    reporter.event('peer-connected', { address, phase: 'metadata', transport, encryption });
  });
  fetcher.on('peer-disconnected', ({ address, reason }) => {
    if (verbose) reporter.log(`peer ${address} disconnected: ${reason}`);
    reporter.event('peer-disconnected', { address, reason, phase: 'metadata' });
  });
  fetcher.on('tracker-response', ({ url, response }) => {
    if (verbose) reporter.log(`tracker ${url}: ${response.peers.length} peers`);
    reporter.event('tracker-response', { url, peers: response.peers.length, interval: response.interval });
  });
  fetcher.on('tracker-error', ({ url, message }) => {
    if (verbose) reporter.log(`tracker ${url} failed: ${message}`);
    reporter.event('tracker-error', { url, message });
  });
  fetcher.on('peer-banned', ({ address, reason }) => {
    reporter.log(`peer ${address} banned: ${reason}`);
    reporter.event('peer-banned', { address, reason, phase: 'metadata' });
  });
  fetcher.on('metadata-rejected', ({ peers }) => {
    reporter.log(`metadata from ${peers.join(', ')} did not match the info-hash; asking others`);
    reporter.event('metadata-rejected', { peers });
  });
  if (options.trace) {
    fetcher.on('wire', ({ peer, direction, message }) =>
      reporter.log(`${direction === 'in' ? '<-' : '->'} ${peer} ${describeMessage(message)}`),
    );
  }
  const abort = new AbortController();
  const interrupt = (): void => abort.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const started = Date.now();
  try {
    const meta = await fetcher.fetch(abort.signal);
    const seconds = (Date.now() - started) / 1000;
    reporter.info(`metadata received in ${seconds.toFixed(2)}s: ${meta.name}`);
    reporter.event('metadata-done', {
      name: meta.name,
      infoHash: meta.infoHashHex,
      infoBytes: meta.infoBytes.length,
      seconds,
    });
    return { meta, peers: fetcher.discoveredPeers };
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
