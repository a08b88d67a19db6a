import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LodestoneError } from '../../index.js';
import { reportTorrentWarnings } from '../name-warnings.js';
import type { SwarmOptions } from '../options.js';
import { chooseMode, Reporter } from '../reporter.js';
import { runTorrent } from '../run-torrent.js';
import { loadSource } from '../source.js';
import { makeClient } from './download.js';

/**
 * `lodestone seed <torrent> <data-path>`: data-path is either the torrent's
 * file/folder itself (named like the torrent) or the folder that holds it.
 */
export async function seedCommand(torrent: string, dataPath: string, options: SwarmOptions): Promise<number> {
  const loaded = await loadSource(torrent);
  if (loaded.kind !== 'torrent') {
    throw new LodestoneError(
      'LODESTONE_ERR_USAGE',
      'seed needs a .torrent file (use `download --seed` for a magnet)',
    );
  }
  const meta = loaded.meta;
  const target = resolve(dataPath);
  if (!existsSync(target))
    throw new LodestoneError('LODESTONE_ERR_IO', `cannot read ${dataPath}: no such file or folder`);
  const root = basename(target) === meta.name ? dirname(target) : target;
  if (!existsSync(resolve(root, meta.name))) {
    throw new LodestoneError('LODESTONE_ERR_IO', `${meta.name} not found in ${root}`);
  }
  const reporter = new Reporter(chooseMode(options));
  const client = makeClient(options);
  try {
    await client.listen();
    reporter.info(`listening on port ${client.port}`);
    reportTorrentWarnings(meta, reporter);
    return await runTorrent(
      client,
      meta,
      [],
      { ...options, root, seed: true, requireComplete: true },
      reporter,
    );
  } finally {
    reporter.stop();
    await client.close();
  }
}
