import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { LodestoneError } from '../../index.js';
import { reportDht } from '../dht-options.js';
import { reportTorrentWarnings } from '../name-warnings.js';
import type { SwarmOptions } from '../options.js';
import { chooseMode, Reporter } from '../reporter.js';
import { runTorrent } from '../run-torrent.js';
import { loadSource } from '../source.js';
import { makeClient } from './download.js';

/**
 * The torrent's own file or folder when the user named it through a symlink of the same name
 * (e.g. `~/links/name.bin` → `/disk2/name.bin`): storage never follows a link out of the folder
 * it seeds from, but a link the user gave on the command line is their choice, so seed from
 * where it leads.
 */
function userLinkResolved(target: string, name: string): string {
  const real = realpathSync(target);
  return basename(real) === name ? real : target;
}

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
  const root = basename(target) === meta.name ? dirname(userLinkResolved(target, meta.name)) : target;
  if (!existsSync(resolve(root, meta.name))) {
    throw new LodestoneError('LODESTONE_ERR_IO', `${meta.name} not found in ${root}`);
  }
  const reporter = new Reporter(chooseMode(options));
  const client = makeClient(options);
  const endDht = reportDht(client, reporter, options.verbose === true || options.trace === true);
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
    endDht();
    await client.close();
    reporter.stop();
  }
}
