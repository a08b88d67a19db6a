/**
 * A program that embeds Lodestone the way the README's library example does: a Client, one
 * torrent, listeners for 'piece-verified' and 'done', and no 'error' listener on the session.
 * Its storage is a full disk, so the download fails. Run as a child process by
 * test/integration/embedding-safety.test.ts: if the failure escaped as an uncaught exception or
 * unhandled rejection, this process would die, and the test sees its exit code and stderr.
 *
 * Argument: JSON { seederHost, leecherHost, clientListener: boolean }. Prints one JSON line
 * (`RESULT {...}`) with what it saw, then closes everything and exits on its own.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isLodestoneError, StorageError } from '../../src/errors.js';
import type { TorrentMetadata } from '../../src/metainfo/index.js';
import { Client } from '../../src/session/client.js';
import type { TorrentSession } from '../../src/session/torrent-session.js';
import { MemoryStorage } from '../../src/storage/memory-storage.js';
import { singleFileTorrent, startLodestoneSeeder } from './lodestone-seeder.js';

/** Every piece write fails, as on a full disk. */
class FullDisk extends MemoryStorage {
  writes = 0;
  constructor(meta: TorrentMetadata) {
    super(meta);
  }
  override async writePiece(): Promise<void> {
    this.writes++;
    throw new StorageError('disk full: no space left', 'LODESTONE_ERR_DISK_FULL');
  }
}

const codeOf = (error: unknown): string =>
  isLodestoneError(error) ? error.code : error instanceof Error ? error.name : String(error);

const config = JSON.parse(process.argv[2] ?? '{}') as {
  seederHost: string;
  leecherHost: string;
  clientListener: boolean;
};
const warnings: { name: string; code: string | undefined; message: string }[] = [];
process.on('warning', (warning) => {
  warnings.push({ name: warning.name, code: (warning as { code?: string }).code, message: warning.message });
});

const root = await mkdtemp(join(tmpdir(), 'lodestone-embedding-'));
const data = randomBytes(8 * 1024 * 1024);
const meta = singleFileTorrent('e.bin', data, 64 * 1024);
const seeder = await startLodestoneSeeder({
  meta,
  onDisk: data,
  dir: join(root, 'seed'),
  host: config.seederHost,
});
const storage = new FullDisk(meta);

// The README example, minus an 'error' listener on the session.
const client = new Client({ port: false, bindAddress: config.leecherHost, hashWorkers: 1 });
const clientErrors: { code: string; sameSession: boolean }[] = [];
let session: TorrentSession | undefined;
if (config.clientListener) {
  client.on('error', (error, from) =>
    clientErrors.push({ code: codeOf(error), sameSession: from === session }),
  );
}
session = client.add(meta, {
  path: join(root, 'leech'),
  useTrackers: false,
  peers: [seeder.address],
  storage,
});
let verified = 0;
session.on('piece-verified', () => verified++);
let done = false;
session.once('done', () => {
  done = true;
});
await session.start();

// The failure comes from piece writes, in I/O callbacks. Wait for it, then a while longer, so
// the writes still in flight fail too.
for (let waited = 0; session.failure === undefined && waited < 20_000; waited += 20) await sleep(20);
await sleep(500);
process.stdout.write(
  `RESULT ${JSON.stringify({
    failure: session.failure ? codeOf(session.failure) : null,
    clientErrors,
    warnings,
    writes: storage.writes,
    verified,
    done,
  })}\n`,
);
await client.close();
await seeder.client.close();
await rm(root, { recursive: true, force: true });
