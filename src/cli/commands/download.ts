import { resolve } from 'node:path';
import { Client, LodestoneError } from '../../index.js';
import { reportNameChanges } from '../name-warnings.js';
import { parsePort, parsePositiveInteger, type SwarmOptions } from '../options.js';
import { chooseMode, Reporter } from '../reporter.js';
import { runTorrent } from '../run-torrent.js';
import { loadSource } from '../source.js';
import { fetchMetadata } from './fetch-metadata.js';

export interface DownloadOptions extends SwarmOptions {
  output: string;
  seed?: boolean;
}

export function makeClient(options: SwarmOptions): Client {
  return new Client({
    port: parsePort(options.port),
    maxPeersPerTorrent: parsePositiveInteger(options.maxPeers, '--max-peers'),
    ...(options.bind ? { bindAddress: options.bind } : {}),
  });
}

/** `lodestone download <torrent|magnet> -o DIR`. */
export async function downloadCommand(source: string, options: DownloadOptions): Promise<number> {
  const loaded = await loadSource(source);
  const reporter = new Reporter(chooseMode(options));
  const client = makeClient(options);
  const seed = options.seed === true || options.seedRatio !== undefined || options.seedTime !== undefined;
  try {
    await client.listen();
    const { meta, peers: discovered } =
      loaded.kind === 'torrent'
        ? { meta: loaded.meta, peers: [] }
        : await fetchMetadata(client, loaded.link, options, reporter);
    if (meta.announceTiers.length === 0 && (options.peer ?? []).length === 0 && discovered.length === 0) {
      throw new LodestoneError(
        'LODESTONE_ERR_NO_PEER_SOURCE',
        'the torrent has no trackers and no --peer was given, and DHT is not supported yet: no way to find peers',
      );
    }
    reportNameChanges(meta, reporter);
    return await runTorrent(
      client,
      meta,
      discovered,
      { ...options, root: resolve(options.output), seed },
      reporter,
    );
  } finally {
    reporter.stop();
    await client.close();
  }
}
