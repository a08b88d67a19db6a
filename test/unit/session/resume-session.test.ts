/**
 * A TorrentSession with a resume store, on real files, no peers: what a restart hashes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { TorrentMetadata } from '../../../src/metainfo/types.js';
import { TorrentSession } from '../../../src/session/torrent-session.js';
import { FileStorage } from '../../../src/storage/file-storage.js';
import { HashPool } from '../../../src/storage/hasher.js';
import { DirectoryResumeStore } from '../../../src/storage/resume-store.js';
import { makeFixture } from '../storage/fixtures.js';

const pool = new HashPool({ workers: 1 });
after(() => pool.destroy());

/** Three files of 4 pieces each (pieces of 1 KiB): file i holds pieces 4i..4i+3. */
const fixture = makeFixture(
  [0, 1, 2].map((i) => ({ path: ['t', `f${i}`], length: 4096 })),
  1024,
);
const meta = fixture.meta;

async function run(dir: string, store: DirectoryResumeStore, m: TorrentMetadata = meta) {
  const session = new TorrentSession({
    meta: m,
    storage: new FileStorage(m, dir),
    hashPool: pool,
    peerId: Buffer.alloc(20, 1),
    port: 0,
    useTrackers: false,
    resume: store,
    savePath: dir,
  });
  const warnings: string[] = [];
  session.on('resume-warning', ({ message }) => warnings.push(message));
  const resume = once(session, 'resume');
  const ready = once(session, 'ready');
  await session.start();
  const [[info], [readyInfo]] = await Promise.all([resume, ready]);
  await session.stop();
  return { info, ready: readyInfo, warnings };
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'lodestone-resume-session-'));
  after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 't'));
  for (let i = 0; i < 3; i++) {
    await writeFile(join(dir, 't', `f${i}`), fixture.content.subarray(i * 4096, (i + 1) * 4096));
  }
  return { dir, store: new DirectoryResumeStore(join(dir, 'state')) };
}

describe('TorrentSession with a resume store', { timeout: 30_000 }, () => {
  test('first start hashes every piece; a restart trusts the record and hashes none', async () => {
    const { dir, store } = await setup();
    const first = await run(dir, store);
    assert.equal(first.info.record, 'none');
    assert.equal(first.ready.piecesHashed, 12);
    assert.equal(first.ready.verifiedPieces, 12);
    const second = await run(dir, store);
    assert.equal(second.info.record, 'used');
    assert.equal(second.ready.piecesHashed, 0);
    assert.equal(second.ready.verifiedPieces, 12);
    assert.equal(second.info.piecesTrusted, 12);
  });

  test('a file changed behind our back: only its pieces are hashed, and its corruption is found', async () => {
    const { dir, store } = await setup();
    await run(dir, store);
    const bad = Buffer.from(fixture.content.subarray(4096, 8192));
    bad.writeUInt8(bad[1500]! ^ 0xff, 1500); // piece 5
    await writeFile(join(dir, 't', 'f1'), bad);
    await utimes(join(dir, 't', 'f1'), new Date(), new Date(Date.now() + 5000)); // a new mtime for sure
    const again = await run(dir, store);
    assert.equal(again.info.filesChanged, 1);
    assert.equal(again.ready.piecesHashed, 4);
    assert.equal(again.ready.verifiedPieces, 11);
  });

  test('a corrupted record: a warning and a full check', async () => {
    const { dir, store } = await setup();
    await run(dir, store);
    await writeFile(store.pathOf(meta.infoHashHex), 'd6:format16:lodestone-resume7:versi');
    const again = await run(dir, store);
    assert.equal(again.info.record, 'rejected');
    assert.equal(again.ready.piecesHashed, 12);
    assert.equal(again.ready.verifiedPieces, 12);
    assert.match(again.warnings.join('\n'), /resume record .*checked every piece/);
  });

  test('a record for another folder is not used', async () => {
    const { dir, store } = await setup();
    await run(dir, store);
    const other = await setup();
    const again = await run(other.dir, store);
    assert.equal(again.info.record, 'moved');
    assert.equal(again.ready.piecesHashed, 12);
  });
});
