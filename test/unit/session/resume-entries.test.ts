/**
 * A resumed download or a seed whose data is already complete writes no piece, so the
 * entries that hold no bytes (empty files, BEP 47 symlinks) must be made after the check.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { parseTorrent } from '../../../src/metainfo/index.js';
import { TorrentSession } from '../../../src/session/torrent-session.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { HashPool } from '../../../src/storage/hasher.js';
import { pieceHashesOf } from '../../helpers/piece-hashes.js';

const PIECE = 16 * 1024;
const content = Buffer.alloc(2 * PIECE + 5, 3);
const meta = parseTorrent(
  encode({
    info: {
      name: 't',
      'piece length': PIECE,
      pieces: pieceHashesOf(content, PIECE),
      files: [
        { length: content.length, path: ['data.bin'] },
        { length: 0, path: ['empty.txt'] },
        { attr: 'l', 'symlink path': ['data.bin'], path: ['links', 'to-data'] },
      ],
    },
  }),
);
const pool = new HashPool({ workers: 1 });
after(() => pool.destroy());

test('complete data on disk: after the check, the empty file and the symlink exist', {
  timeout: 20_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-resume-entries-'));
  after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 't'));
  await writeFile(join(dir, 't', 'data.bin'), content);
  const session = new TorrentSession({
    meta,
    storage: new FileStorage(meta, dir),
    hashPool: pool,
    peerId: Buffer.alloc(20, 1),
    port: 0,
    useTrackers: false,
  });
  try {
    await session.start();
    assert.equal(session.have.count, meta.pieceCount, 'the data checked complete');
    assert.equal((await stat(join(dir, 't', 'empty.txt'))).size, 0, 'the empty file is made');
    const link = join(dir, 't', 'links', 'to-data');
    assert.ok((await lstat(link)).isSymbolicLink(), 'the symlink is made');
    assert.equal(await readlink(link), join('..', 'data.bin'));
  } finally {
    await session.stop();
  }
});
