import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { encode } from '../../../src/bencode/index.js';
import { Bitfield } from '../../../src/bitfield.js';
import { LodestoneError } from '../../../src/errors.js';
import {
  decodeResumeRecord,
  encodeResumeRecord,
  type ResumeRecord,
} from '../../../src/storage/resume-record.js';

const infoHash = Buffer.alloc(20, 7);

function sample(): ResumeRecord {
  const have = new Bitfield(11);
  have.set(0);
  have.set(5);
  have.set(10);
  return {
    infoHash,
    pieceCount: 11,
    pieceLength: 16384,
    have,
    files: [{ size: 100, mtimeNs: 1_764_000_000_123_456_789n }, undefined, { size: 0, mtimeNs: 5n }],
    savePath: '/srv/downloads/été',
    uploadedBytes: 12345,
    downloadedBytes: 2 ** 40,
    savedAtMs: 1_764_790_000_000,
  };
}

const expect = { infoHash, pieceCount: 11, pieceLength: 16384, fileCount: 3 };

function assertRejected(run: () => unknown, message?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof LodestoneError, `not a LodestoneError: ${String(error)}`);
    assert.equal(error.code, 'LODESTONE_ERR_RESUME_RECORD');
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('resume record codec', () => {
  test('round trip keeps every field, nanosecond mtimes included', () => {
    const record = sample();
    const back = decodeResumeRecord(encodeResumeRecord(record), expect);
    assert.deepEqual(Buffer.from(back.infoHash), infoHash);
    assert.deepEqual([...back.have.bytes], [...record.have.bytes]);
    assert.equal(back.have.count, 3);
    assert.deepEqual(back.files, record.files);
    assert.equal(back.savePath, record.savePath);
    assert.equal(back.downloadedBytes, 2 ** 40);
    assert.equal(back.uploadedBytes, 12345);
    assert.equal(back.savedAtMs, record.savedAtMs);
  });

  test('a record for another torrent, piece layout or file list is rejected', () => {
    const data = encodeResumeRecord(sample());
    assertRejected(
      () => decodeResumeRecord(data, { ...expect, infoHash: Buffer.alloc(20, 8) }),
      /another torrent/,
    );
    assertRejected(() => decodeResumeRecord(data, { ...expect, pieceLength: 32768 }), /piece layout/);
    assertRejected(() => decodeResumeRecord(data, { ...expect, pieceCount: 12 }), /piece layout/);
    assertRejected(() => decodeResumeRecord(data, { ...expect, fileCount: 4 }), /file count/);
  });

  test('another version, another format, a bad bitfield are rejected', () => {
    const valid = encodeResumeRecord(sample()).toString('latin1');
    assertRejected(
      () => decodeResumeRecord(Buffer.from(valid.replace('7:versioni1e', '7:versioni2e'), 'latin1')),
      /version/,
    );
    assertRejected(() => decodeResumeRecord(encode({ format: 'other', version: 1 })), /not a Lodestone/);
    // Spare bits past the piece count set: not a record we wrote.
    const record = sample();
    const bytes = Uint8Array.from(record.have.bytes);
    bytes[1]! |= 0x01;
    const spare = encodeResumeRecord({ ...record, have: { bytes } as Bitfield });
    assertRejected(() => decodeResumeRecord(spare, expect), /bitfield/);
  });

  test('every truncation of a valid record is the typed error', () => {
    const data = encodeResumeRecord(sample());
    for (let length = 0; length < data.length; length++) {
      assertRejected(() => decodeResumeRecord(data.subarray(0, length), expect));
    }
  });

  test('property: round trip of arbitrary records', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }).chain((pieceCount) =>
          fc.record({
            pieceCount: fc.constant(pieceCount),
            pieces: fc.array(fc.boolean(), { minLength: pieceCount, maxLength: pieceCount }),
            pieceLength: fc.integer({ min: 1, max: 2 ** 30 }),
            files: fc.array(
              fc.option(
                fc.record({
                  size: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
                  mtimeNs: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 63n }),
                }),
                { nil: undefined },
              ),
              { maxLength: 20 },
            ),
            savePath: fc.string(),
            uploadedBytes: fc.nat(),
            downloadedBytes: fc.nat(),
            savedAtMs: fc.nat(),
            infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
          }),
        ),
        (input) => {
          const have = new Bitfield(input.pieceCount);
          for (const [index, bit] of input.pieces.entries()) if (bit) have.set(index);
          const record: ResumeRecord = { ...input, have };
          const back = decodeResumeRecord(encodeResumeRecord(record), {
            infoHash: input.infoHash,
            pieceCount: input.pieceCount,
            pieceLength: input.pieceLength,
            fileCount: input.files.length,
          });
          assert.deepEqual([...back.have.bytes], [...have.bytes]);
          assert.deepEqual(
            back.files,
            input.files.map((file) => file && { ...file }),
          );
          assert.equal(back.savePath, Buffer.from(input.savePath).toString('utf8'));
          assert.equal(back.pieceLength, input.pieceLength);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('property: garbage and mutated records throw nothing but the typed error', () => {
    const valid = encodeResumeRecord(sample());
    const mutated = fc
      .tuple(
        fc.nat({ max: valid.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: valid.length }),
      )
      .map(([at, byte, cut]) => {
        const copy = Buffer.from(valid);
        copy[at] = byte;
        return copy.subarray(0, Math.max(cut, at + 1));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated), (data) => {
        try {
          decodeResumeRecord(data, expect);
        } catch (error) {
          assert.ok(error instanceof LodestoneError, `threw ${String(error)}`);
          assert.equal(error.code, 'LODESTONE_ERR_RESUME_RECORD');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
