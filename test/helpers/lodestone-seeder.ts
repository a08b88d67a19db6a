/** An in-process Lodestone seeder on a loopback address, over a single-file torrent built from bytes. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerAddress } from '../../src/address.js';
import { encode } from '../../src/bencode/index.js';
import { parseTorrent, type TorrentMetadata } from '../../src/metainfo/index.js';
import { Client, type ClientOptions } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import { pieceHashesOf } from './piece-hashes.js';

/** A trackerless single-file torrent whose piece hashes are those of `data`. */
export function singleFileTorrent(name: string, data: Uint8Array, pieceLength: number): TorrentMetadata {
  return parseTorrent(
    encode({
      info: {
        name,
        'piece length': pieceLength,
        pieces: pieceHashesOf(data, pieceLength),
        length: data.length,
      },
    }),
  );
}

export interface LodestoneSeeder {
  client: Client;
  session: TorrentSession;
  address: PeerAddress;
}

/**
 * Writes `onDisk` as the torrent's file under `dir` and seeds it from `host`
 * (any port), without trackers. `onDisk` may differ from the torrent's data:
 * the seeder then has only the pieces that match. Close `client` when done.
 */
export async function startLodestoneSeeder(options: {
  meta: TorrentMetadata;
  onDisk: Uint8Array;
  dir: string;
  host: string;
  client?: Omit<ClientOptions, 'port' | 'bindAddress'>;
}): Promise<LodestoneSeeder> {
  const { meta, dir, host } = options;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, meta.name), options.onDisk);
  const client = new Client({ hashWorkers: 1, ...options.client, port: 0, bindAddress: host });
  try {
    const port = await client.listen();
    const session = client.add(meta, { path: dir, seed: true, useTrackers: false });
    await session.start();
    return { client, session, address: { host, port } };
  } catch (error) {
    await client.close();
    throw error;
  }
}
