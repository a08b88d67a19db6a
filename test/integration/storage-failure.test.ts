/**
 * A download whose storage fails (a full disk) between a Lodestone seeder and
 * leecher on loopback (addresses from nextLoopbackAddress): the session
 * reports the failure once, as the typed error, and stops requesting. Several writes in flight meet the
 * same full disk; reporting each would emit 'error' with nobody listening any
 * more, which crashed the CLI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLodestoneError, StorageError } from '../../src/errors.js';
import type { TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import {
  type LodestoneSeeder,
  singleFileTorrent,
  startLodestoneSeeder,
} from '../helpers/lodestone-seeder.js';
import { nextLoopbackAddress } from '../helpers/real-clients/index.js';

const PIECE = 64 * 1024;
/** 64 MiB: far more than the requests in flight when the disk fills (a few MiB). */
const DATA_LENGTH = 1024 * PIECE;

let root: string;
let meta: TorrentMetadata;
let seeder: LodestoneSeeder;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'lodestone-storage-failure-'));
  const data = randomBytes(DATA_LENGTH);
  meta = singleFileTorrent('f.bin', data, PIECE);
  seeder = await startLodestoneSeeder({
    meta,
    onDisk: data,
    dir: join(root, 'seed'),
    host: nextLoopbackAddress(),
  });
});

after(async () => {
  await seeder.client.close();
  await rm(root, { recursive: true, force: true });
});

/**
 * Memory storage whose disk is full: every piece write fails. The first ones
 * are held until three are in flight (or a second has passed) and then fail
 * together, as a batch of writes meets a full disk.
 */
class FullDisk extends MemoryStorage {
  writes = 0;
  readonly #together: Promise<unknown>;
  #release: () => void = () => {};

  constructor(meta: TorrentMetadata) {
    super(meta);
    this.#together = Promise.race([
      new Promise<void>((resolve) => {
        this.#release = resolve;
      }),
      sleep(1000),
    ]);
  }

  override async writePiece(): Promise<void> {
    if (++this.writes >= 3) this.#release();
    await this.#together;
    throw new StorageError('disk full: no space left', 'LODESTONE_ERR_DISK_FULL');
  }
}

test('a full disk: one error event with the typed error, then no more requests or errors', {
  timeout: 60_000,
}, async (t) => {
  const storage = new FullDisk(meta);
  const leecher = new Client({ port: false, bindAddress: nextLoopbackAddress(), hashWorkers: 1 });
  t.after(() => leecher.close());
  const session = leecher.add(meta, {
    path: join(root, 'leech'),
    useTrackers: false,
    peers: [seeder.address],
    storage,
  });
  const errors: Error[] = [];
  session.on('error', (error) => errors.push(error));
  await session.start();
  for (let waited = 0; errors.length === 0 && waited < 20_000; waited += 20) await sleep(20);
  assert.equal(errors.length, 1, 'the failure is reported');
  const [error] = errors;
  assert.ok(isLodestoneError(error) && error.code === 'LODESTONE_ERR_DISK_FULL', String(error));
  // Writes already in flight fail too; none is reported again, and the download stops.
  let downloaded = session.stats().downloadedBytes;
  // Until nothing more arrives for a second; a download that never stops fails below, not hangs.
  for (let still = 0, rounds = 0; still < 5 && rounds < 100; rounds++) {
    await sleep(200);
    const now = session.stats().downloadedBytes;
    still = now === downloaded ? still + 1 : 0;
    downloaded = now;
  }
  assert.equal(errors.length, 1, 'no second error event');
  assert.ok(storage.writes >= 3, `${storage.writes} writes failed, together`);
  assert.ok(
    downloaded < DATA_LENGTH / 2,
    `requests stop at the failure: ${downloaded} of ${DATA_LENGTH} bytes came in`,
  );
});
