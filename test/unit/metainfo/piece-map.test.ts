import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type FileRange,
  fileRangesForSpan,
  parseTorrent,
  pieceLength,
  pieceToFileRanges,
  type TorrentMetadata,
} from '../../../src/metainfo/index.js';
import { type FileSpec, multiFileInfo, PIECE_16K, torrentBytes } from './torrent-builder.js';

function torrentOf(files: FileSpec[]): TorrentMetadata {
  return parseTorrent(torrentBytes(multiFileInfo(files)));
}

/** Straightforward O(files) reference: walks every byte span of every file. */
function referenceRanges(meta: TorrentMetadata, offset: number, length: number): FileRange[] {
  const out: FileRange[] = [];
  meta.files.forEach((file, fileIndex) => {
    const start = Math.max(offset, file.offset);
    const end = Math.min(offset + length, file.offset + file.length);
    if (end > start)
      out.push({
        fileIndex,
        fileOffset: start - file.offset,
        pieceOffset: start - offset,
        length: end - start,
      });
  });
  return out;
}

describe('piece map', () => {
  // 10 + 0 + 20,000 + 0 + 0 + 16,384 + 1 + 0 = 36,395 bytes: 3 pieces, the last one odd (3,627 bytes).
  const meta = torrentOf([
    { path: ['a'], length: 10 },
    { path: ['empty1'], length: 0 },
    { path: ['b'], length: 20_000 },
    { path: ['empty2'], length: 0 },
    { path: ['empty3'], length: 0 },
    { path: ['c'], length: PIECE_16K },
    { path: ['d'], length: 1 },
    { path: ['empty4'], length: 0 },
  ]);

  test('piece lengths, including the odd final piece', () => {
    assert.equal(meta.pieceCount, 3);
    assert.equal(pieceLength(meta, 0), PIECE_16K);
    assert.equal(pieceLength(meta, 1), PIECE_16K);
    assert.equal(pieceLength(meta, 2), 36_395 - 2 * PIECE_16K);
    assert.throws(() => pieceLength(meta, 3), { code: 'LODESTONE_ERR_METAINFO' });
    assert.throws(() => pieceLength(meta, -1), /out of range/);
    assert.throws(() => pieceLength(meta, 0.5), /out of range/);
  });

  test('a piece spanning file boundaries skips zero-length files', () => {
    assert.deepEqual(pieceToFileRanges(meta, 0), [
      { fileIndex: 0, fileOffset: 0, pieceOffset: 0, length: 10 },
      { fileIndex: 2, fileOffset: 0, pieceOffset: 10, length: PIECE_16K - 10 },
    ]);
    assert.deepEqual(pieceToFileRanges(meta, 1), [
      { fileIndex: 2, fileOffset: PIECE_16K - 10, pieceOffset: 0, length: 20_000 - (PIECE_16K - 10) },
      { fileIndex: 5, fileOffset: 0, pieceOffset: 20_010 - PIECE_16K, length: 2 * PIECE_16K - 20_010 },
    ]);
    assert.deepEqual(pieceToFileRanges(meta, 2), [
      {
        fileIndex: 5,
        fileOffset: 2 * PIECE_16K - 20_010,
        pieceOffset: 0,
        length: 20_010 + PIECE_16K - 2 * PIECE_16K,
      },
      { fileIndex: 6, fileOffset: 0, pieceOffset: 3_626, length: 1 },
    ]);
  });

  test('ranges of every piece tile the whole torrent', () => {
    let covered = 0;
    for (let i = 0; i < meta.pieceCount; i++) {
      const ranges = pieceToFileRanges(meta, i);
      assert.equal(
        ranges.reduce((sum, r) => sum + r.length, 0),
        pieceLength(meta, i),
      );
      covered += pieceLength(meta, i);
    }
    assert.equal(covered, meta.totalLength);
  });

  test('arbitrary spans match a brute-force reference', () => {
    const total = meta.totalLength;
    const points = [0, 1, 9, 10, 11, 19_999, 20_009, 20_010, 20_011, 36_393, 36_394, total];
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        assert.deepEqual(
          fileRangesForSpan(meta, start, end - start),
          referenceRanges(meta, start, end - start),
        );
      }
    }
  });

  test('spans outside the torrent are rejected', () => {
    assert.throws(() => fileRangesForSpan(meta, -1, 1), /outside the torrent/);
    assert.throws(() => fileRangesForSpan(meta, 36_395, 1), /outside the torrent/);
    assert.throws(() => fileRangesForSpan(meta, 0, 36_396), /outside the torrent/);
    assert.throws(() => fileRangesForSpan(meta, 0.5, 1), /outside the torrent/);
    assert.deepEqual(fileRangesForSpan(meta, 36_395, 0), []);
  });

  test('padding files appear in ranges, flagged by their file index', () => {
    const padded = torrentOf([
      { path: ['a'], length: 100 },
      { path: ['.pad', '16284'], length: 16_284, attr: 'p' },
      { path: ['b'], length: 10 },
    ]);
    const ranges = pieceToFileRanges(padded, 0);
    assert.deepEqual(
      ranges.map((r) => [r.fileIndex, padded.files[r.fileIndex]!.padding]),
      [
        [0, false],
        [1, true],
      ],
    );
    assert.deepEqual(pieceToFileRanges(padded, 1), [
      { fileIndex: 2, fileOffset: 0, pieceOffset: 0, length: 10 },
    ]);
  });

  test('single-file torrents map onto file 0', () => {
    const single = parseTorrent(
      torrentBytes({ name: 'x', 'piece length': PIECE_16K, length: 20_000, pieces: Buffer.alloc(40) }),
    );
    assert.deepEqual(pieceToFileRanges(single, 1), [
      { fileIndex: 0, fileOffset: PIECE_16K, pieceOffset: 0, length: 20_000 - PIECE_16K },
    ]);
  });

  test('many tiny files: lookups stay logarithmic and correct', () => {
    const files: FileSpec[] = [];
    for (let i = 0; i < 20_000; i++) files.push({ path: [`f${i}`], length: i % 3 === 0 ? 0 : 7 });
    const many = torrentOf(files);
    const started = process.hrtime.bigint();
    for (let i = 0; i < many.pieceCount; i++) {
      const ranges = pieceToFileRanges(many, i);
      assert.ok(ranges.every((r) => many.files[r.fileIndex]!.length > 0));
    }
    assert.ok(process.hrtime.bigint() - started < 2_000_000_000n);
    const middle = fileRangesForSpan(many, 70_000, 14);
    assert.deepEqual(middle, referenceRanges(many, 70_000, 14));
  });
});
