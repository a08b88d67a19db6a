import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { judgeBudget, pieceBufferBound } from '../../../bench/budget.js';
import {
  BIG_FILE_SIZE,
  BIG_FILES,
  manyFilesTotalSize,
  smallFilePath,
  smallFileSize,
  writeManyFilesContent,
} from '../../../bench/many-files-content.js';
import { type BenchReport, type DownloadRecord, ratios, renderMarkdown } from '../../../bench/report.js';

const MiB = 1024 * 1024;
const OTHERS = 'aria2+qbittorrent+transmission';

function report(records: DownloadRecord[], rows: BenchReport['rows']): BenchReport {
  return {
    startedAt: '2026-01-01T00:00:00.000Z',
    machine: { cpu: 'cpu', cores: 2, memoryGiB: 4, node: '20', loadAverageAtStart: [0, 0, 0] },
    config: {},
    versions: {},
    notes: [],
    records,
    micro: [],
    ...(rows !== undefined ? { rows } : {}),
  };
}

function many(leecher: string, round: number, wallSeconds: number, peakRssMiB: number): DownloadRecord {
  return {
    phase: 'many-files',
    seeders: 'qbittorrent',
    leecher,
    source: 'torrent',
    round,
    ok: true,
    wallSeconds,
    mibPerSecond: 325 / wallSeconds,
    cpuSeconds: wallSeconds / 2,
    peakRssMiB,
  };
}

test('many-files row: Lodestone ÷ aria2 and ÷ libtorrent in wall time and peak RSS, per round', () => {
  const records = [
    many('lodestone', 1, 20, 60),
    many('aria2', 1, 40, 30),
    many('libtorrent', 1, 10, 120),
    // A Lodestone failure in round 2: no ratio for that round, a line under Failures.
    { ...many('lodestone', 2, 1, 1), ok: false, error: 'EMFILE: too many open files' },
    many('aria2', 2, 40, 30),
  ];
  const byOther = new Map(ratios(records, 'many-files').map((r) => [r.other, r]));
  assert.equal(byOther.get('aria2')?.wall?.median, 0.5);
  assert.equal(byOther.get('aria2')?.wall?.n, 1);
  assert.equal(byOther.get('aria2')?.rss?.median, 2);
  assert.equal(byOther.get('libtorrent')?.wall?.median, 2);
  assert.equal(byOther.get('libtorrent')?.rss?.median, 0.5);

  const markdown = renderMarkdown(
    report(records, {
      manyFiles: { files: 100_004, totalSize: '325 MiB', pieceLength: '256KiB', seeder: 'qbittorrent' },
    }),
  );
  assert.match(markdown, /## Many files: 100004 files, 325 MiB, pieces of 256KiB, seeded by qbittorrent/);
  assert.match(markdown, /\| lodestone \| 1\/2 \| 20\.0 \|/);
  assert.match(markdown, /\| aria2 \| 0\.50 \| 0\.50 \| 2\.00 \|/);
  assert.match(markdown, /\| libtorrent \| 2\.00 \| 2\.00 \| 0\.50 \|/);
  assert.match(markdown, /- many-files qbittorrent → lodestone \(torrent, round 2\): EMFILE/);
  // The rows never reach the swarm targets.
  assert.doesNotMatch(markdown, /## Targets/);
});

test('piece-buffer bound in bytes: one 16 MiB partial piece and one spare, plus half the budget', () => {
  const big = pieceBufferBound(16 * MiB);
  assert.deepEqual(
    [big.partialBytes, big.spareBytes, big.pendingBytes, big.totalBytes].map((b) => b / MiB),
    [16, 16, 8, 40],
  );
  const small = pieceBufferBound(256 * 1024);
  assert.deepEqual(
    [small.partialBytes, small.spareBytes, small.totalBytes].map((b) => b / MiB),
    [8, 8, 24],
  );
  // A piece larger than the budget still gets one buffer of each.
  assert.equal(pieceBufferBound(256 * MiB).totalBytes / MiB, 256 + 256 + 8);
});

test('big-pieces budget: baseline plus bound, judged on the worst round; no baseline, no verdict', () => {
  const bound = pieceBufferBound(16 * MiB);
  assert.deepEqual(judgeBudget(126, 86, bound), { budgetMiB: 126, held: true });
  assert.deepEqual(judgeBudget(126.5, 86, bound), { budgetMiB: 126, held: false });
  assert.deepEqual(judgeBudget(100, undefined, bound), {});

  const swarm = (round: number, peakRssMiB: number): DownloadRecord => ({
    phase: 'swarm',
    seeders: OTHERS,
    leecher: 'lodestone',
    source: 'torrent',
    round,
    ok: true,
    mibPerSecond: 300,
    peakRssMiB,
  });
  const big = (round: number, peakRssMiB: number): DownloadRecord => ({
    ...swarm(round, peakRssMiB),
    phase: 'big-pieces',
  });
  const rows = {
    bigPieces: { totalSize: '256MiB', pieceLength: '16MiB', seeders: OTHERS, bound },
  };
  const held = renderMarkdown(report([swarm(1, 85), swarm(2, 87), big(1, 100), big(2, 120)], rows));
  assert.match(held, /## Big pieces: 256MiB in pieces of 16MiB/);
  assert.match(held, /= 40\.0 MiB/);
  assert.match(held, /\| lodestone \| 2 \| – \| 300 \| 110 \(100–120\) \| 86\.0 \| 126 \| yes \|/);
  // One round over the budget fails the row, whatever the median.
  const over = renderMarkdown(report([swarm(1, 86), big(1, 100), big(2, 130)], rows));
  assert.match(over, /\| 126 \| \*\*no\*\* \|/);
  const alone = renderMarkdown(report([big(1, 100)], rows));
  assert.match(alone, /no swarm phase in this run\) \| – \| not judged \|/);
});

test('many-files content: deterministic, sizes 1–5 KiB around 3 KiB, folders of 1,000', async () => {
  assert.equal(smallFilePath(0, 100_000), 'd00/f00000.bin');
  assert.equal(smallFilePath(12_345, 100_000), 'd12/f12345.bin');
  assert.equal(smallFilePath(4999, 5000), 'd4/f4999.bin');
  const sizes = Array.from({ length: 100_000 }, (_, i) => smallFileSize(i));
  assert.ok(sizes.every((size) => size >= 1024 && size <= 5120));
  const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  assert.ok(Math.abs(mean - 3072) < 32, `mean ${mean}`);
  const total = manyFilesTotalSize(100_000);
  assert.equal(total, sizes.reduce((a, b) => a + b, 0) + BIG_FILES * BIG_FILE_SIZE);
  assert.ok(total > 300 * MiB && total < 350 * MiB, `${total / MiB} MiB`);

  const root = await mkdtemp(join(tmpdir(), 'lodestone-many-files-'));
  try {
    const first = writeManyFilesContent(join(root, 'a'), 'many', 3);
    const second = writeManyFilesContent(join(root, 'b'), 'many', 3);
    assert.deepEqual(
      first.expected.map((f) => f.path),
      [
        'many/d0/f0.bin',
        'many/d0/f1.bin',
        'many/d0/f2.bin',
        ...[1, 2, 3, 4].map((i) => `many/big/big-${i}.bin`),
      ],
    );
    assert.deepEqual(first.expected, second.expected);
    assert.equal(first.totalSize, manyFilesTotalSize(3));
    const onDisk = await readFile(join(root, 'a', 'many', 'd0', 'f1.bin'));
    assert.equal(onDisk.length, smallFileSize(1));
    // Different files have different bytes (one stream sliced, not one block repeated).
    const other = await readFile(join(root, 'a', 'many', 'd0', 'f0.bin'));
    assert.notDeepEqual(onDisk.subarray(0, 1024), other.subarray(0, 1024));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
