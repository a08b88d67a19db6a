import { writeFile } from 'node:fs/promises';
import { CLIENT_NAME, Client, LodestoneError } from '../../index.js';
import { buildTorrentFile } from '../../metainfo/index.js';
import { dhtClientOption, reportDht } from '../dht-options.js';
import { ExitCode } from '../exit-codes.js';
import { parsePort } from '../options.js';
import { chooseMode, Reporter } from '../reporter.js';
import { loadSource } from '../source.js';
import { fetchMetadata } from './fetch-metadata.js';

export interface MetadataOptions {
  output: string;
  port: string;
  bind?: string;
  trackers: boolean;
  peer?: string[];
  metadataTimeout?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  trace?: boolean;
  /** `--no-dht` makes it false. */
  dht?: boolean;
  dhtBootstrap?: string[];
  stateDir?: string;
}

/** `lodestone metadata <magnet> -o file.torrent`: fetch only the info dictionary and save a .torrent. */
export async function metadataCommand(source: string, options: MetadataOptions): Promise<number> {
  const loaded = await loadSource(source);
  if (loaded.kind !== 'magnet')
    throw new LodestoneError('LODESTONE_ERR_USAGE', 'metadata needs a magnet link');
  const reporter = new Reporter(chooseMode(options));
  const client = new Client({
    port: parsePort(options.port),
    ...(options.bind ? { bindAddress: options.bind } : {}),
    dht: dhtClientOption(options),
  });
  const endDht = reportDht(client, reporter, options.verbose === true || options.trace === true);
  try {
    await client.listen();
    const { meta } = await fetchMetadata(client, loaded.link, options, reporter);
    const torrent = buildTorrentFile(meta.infoBytes, {
      announceTiers: loaded.link.trackers.map((url) => [url]),
      webSeeds: loaded.link.webSeeds,
      createdBy: CLIENT_NAME,
    });
    await writeFile(options.output, torrent).catch((error: NodeJS.ErrnoException) => {
      throw new LodestoneError(
        'LODESTONE_ERR_IO',
        `cannot write ${options.output}: ${error.code ?? error.message}`,
      );
    });
    reporter.info(`wrote ${options.output} (${meta.name}, info-hash ${meta.infoHashHex})`);
    reporter.event('written', { path: options.output, infoHash: meta.infoHashHex, name: meta.name });
    return ExitCode.ok;
  } finally {
    endDht();
    await client.close();
    reporter.stop();
  }
}
