/**
 * Two Lodestone processes and aria2 each start with a different third of
 * the data (partial seeds); trading pieces among themselves, all three finish.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTorrent } from '../../src/metainfo/index.js';
import { runCli } from '../helpers/lodestone-cli.js';
import { startOpentracker } from '../helpers/opentracker.js';
import {
  createTorrentWithMktorrent,
  makeRandomContent,
  nextLoopbackAddress,
  startAria2Leecher,
} from '../helpers/real-clients/index.js';
import { requireTool } from '../helpers/tools.js';

const MiB = 1024 * 1024;

/** Copies the file, then zeroes every piece that does not belong to share `keep` of 3. */
async function partialCopy(
  source: string,
  target: string,
  pieceLength: number,
  keep: number,
): Promise<number> {
  await mkdir(join(target, '..'), { recursive: true });
  await copyFile(source, target);
  const handle = await open(target, 'r+');
  const size = (await handle.stat()).size;
  let kept = 0;
  try {
    const zeros = Buffer.alloc(pieceLength);
    for (let index = 0; index * pieceLength < size; index++) {
      if (index % 3 === keep) {
        kept++;
        continue;
      }
      await handle.write(zeros, 0, Math.min(pieceLength, size - index * pieceLength), index * pieceLength);
    }
  } finally {
    await handle.close();
  }
  return kept;
}

test('two Lodestones and aria2, each with a third of the data, all finish', {
  timeout: 300_000,
}, async (t) => {
  for (const tool of ['opentracker', 'mktorrent', 'aria2c']) if (!requireTool(t, tool)) return;
  const root = await mkdtemp(join(tmpdir(), 'lodestone-partial-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const content = await makeRandomContent(join(root, 'original'), {
    files: [{ path: 'p.bin', size: 12 * MiB + 4567 }],
  });
  const tracker = await startOpentracker({ infoHashes: [] });
  t.after(() => tracker.stop());
  const torrent = await createTorrentWithMktorrent({
    path: join(root, 'original', 'p.bin'),
    announce: [tracker.httpUrl],
    pieceLengthExp: 18,
    out: join(root, 'p.torrent'),
  });
  const meta = parseTorrent(await readFile(torrent));
  await tracker.addInfoHash(meta.infoHashHex);
  const dirs = ['aria2', 'lodestone-1', 'lodestone-2'].map((name) => join(root, name));
  for (let i = 0; i < 3; i++) {
    const kept = await partialCopy(
      content.files[0]!.absolutePath,
      join(dirs[i]!, 'p.bin'),
      meta.pieceLength,
      i,
    );
    assert.ok(kept > 0 && kept < meta.pieceCount);
  }

  const aria2 = await startAria2Leecher({
    torrentPath: torrent,
    outDir: dirs[0]!,
    address: nextLoopbackAddress(),
  });
  t.after(() => aria2.stop());
  const lodestones = [dirs[1]!, dirs[2]!].map((dir) => {
    const run = runCli([
      'download',
      torrent,
      '-o',
      dir,
      '--seed',
      '--json',
      '--port',
      '0',
      '--bind',
      nextLoopbackAddress(),
    ]);
    t.after(() => run.stop());
    return run;
  });
  for (const run of lodestones) {
    const check = await run.waitFor((e) => e.type === 'checking' && e.checked === e.total, 60_000);
    assert.ok(
      Number(check.valid) > 0 && Number(check.valid) < meta.pieceCount,
      `starts as a partial seed (${check.valid})`,
    );
  }
  await Promise.all(lodestones.map((run) => run.waitFor((e) => e.type === 'seeding', 180_000)));
  await aria2.waitComplete(180_000);

  const original = await readFile(content.files[0]!.absolutePath);
  for (const dir of dirs) {
    assert.ok((await readFile(join(dir, 'p.bin'))).equals(original), `${dir} finished byte-identical`);
  }
  for (const run of lodestones) await run.stop();
  for (const run of lodestones) {
    const stopped = run.events.find((e) => e.type === 'stopped');
    assert.ok(Number(stopped?.uploadedBytes) > 0, 'each Lodestone also uploaded to the others');
  }
});
