import { join, resolve } from 'node:path';
import { Client, DirectoryResumeStore, noPeerSourceError } from '../../index.js';
import { dhtClientOption, reportDht } from '../dht-options.js';
import { reportTorrentWarnings } from '../name-warnings.js';
import { parsePort, parsePositiveInteger, parseRate, type SwarmOptions } from '../options.js';
import { chooseMode, Reporter } from '../reporter.js';
import { runTorrent } from '../run-torrent.js';
import { loadSource, type Source } from '../source.js';
import { resolveStateDir } from '../state-dir.js';
import { fetchMetadata } from './fetch-metadata.js';

export interface DownloadOptions extends SwarmOptions {
  output: string;
  seed?: boolean;
  /** `--files <list>`: only these files. */
  files?: string;
  /** `--skip <list>`: all files but these. */
  skip?: string;
  sequential?: boolean;
}

/** Throws LODESTONE_ERR_NO_PEER_SOURCE (exit 5) at once when nothing could ever give us a peer. */
function assertPeerSource(source: Source, options: DownloadOptions): void {
  const manual = (options.peer ?? []).length;
  const error =
    source.kind === 'torrent'
      ? noPeerSourceError({
          kind: 'torrent',
          trackers: source.meta.announceTiers.flat().length,
          useTrackers: options.trackers !== false,
          peers: manual,
          dht: options.dht !== false && !source.meta.private,
        })
      : noPeerSourceError({
          kind: 'magnet link',
          trackers: source.link.trackers.length,
          useTrackers: options.trackers !== false,
          peers: source.link.peers.length + manual,
          dht: options.dht !== false,
        });
  if (error) throw error;
}

export function makeClient(options: SwarmOptions): Client {
  const downloadLimit = parseRate(options.downloadLimit, '--download-limit');
  const uploadLimit = parseRate(options.uploadLimit, '--upload-limit');
  return new Client({
    ...(downloadLimit ? { downloadLimit } : {}),
    ...(uploadLimit ? { uploadLimit } : {}),
    port: parsePort(options.port),
    maxPeersPerTorrent: parsePositiveInteger(options.maxPeers, '--max-peers'),
    ...(options.bind ? { bindAddress: options.bind } : {}),
    ...(options.encryption ? { encryption: options.encryption } : {}),
    ...(options.utp === false ? { utp: false } : {}),
    ...(options.resume !== false
      ? { resume: new DirectoryResumeStore(join(resolveStateDir(options.stateDir), 'resume')) }
      : {}),
    dht: dhtClientOption(options),
  });
}

/** `lodestone download <torrent|magnet> -o DIR`. */
export async function downloadCommand(source: string, options: DownloadOptions): Promise<number> {
  const loaded = await loadSource(source);
  // Before anything starts (or --metadata-timeout is parsed): with no way to find a peer we exit 5 now.
  assertPeerSource(loaded, options);
  const reporter = new Reporter(chooseMode(options));
  const client = makeClient(options);
  const seed = options.seed === true || options.seedRatio !== undefined || options.seedTime !== undefined;
  const endDht = reportDht(client, reporter, options.verbose === true || options.trace === true);
  try {
    await client.listen();
    const { meta, peers: discovered } =
      loaded.kind === 'torrent'
        ? { meta: loaded.meta, peers: [] }
        : await fetchMetadata(client, loaded.link, options, reporter);
    reportTorrentWarnings(meta, reporter);
    return await runTorrent(
      client,
      meta,
      discovered,
      { ...options, root: resolve(options.output), seed },
      reporter,
    );
  } finally {
    endDht();
    await client.close();
    reporter.stop();
  }
}
