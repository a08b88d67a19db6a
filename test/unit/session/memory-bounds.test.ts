import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { HASH_BLAME_RECORD_BYTES, HashBlame } from '../../../src/session/hash-blame.js';
import { DEFAULT_MEMORY_BUDGET, maxPartialPieces } from '../../../src/session/memory-bounds.js';
import { PieceAssembler } from '../../../src/session/piece-assembler.js';
import { metaFor } from './fixtures.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 16 * KiB;

describe('memory bounds are in bytes, whatever the piece length (issue 15)', () => {
  test('partial pieces: half the budget over the piece length, at least 1, at most 64', () => {
    // Default budget 16 MiB: 8 MiB for partial pieces.
    assert.equal(maxPartialPieces(DEFAULT_MEMORY_BUDGET, 256 * MiB), 1);
    assert.equal(maxPartialPieces(DEFAULT_MEMORY_BUDGET, 16 * MiB), 1);
    assert.equal(maxPartialPieces(DEFAULT_MEMORY_BUDGET, 8 * MiB), 1);
    assert.equal(maxPartialPieces(DEFAULT_MEMORY_BUDGET, 4 * MiB), 2);
    assert.equal(maxPartialPieces(DEFAULT_MEMORY_BUDGET, 256 * KiB), 32);
    assert.equal(maxPartialPieces(DEFAULT_MEMORY_BUDGET, 16 * KiB), 64);
    // A piece larger than the whole budget is still downloadable, one at a time.
    assert.equal(maxPartialPieces(1 * MiB, 256 * MiB), 1);
    // Bytes held by partial pieces stay within half the budget whenever one piece fits in it.
    for (const pieceLength of [16 * KiB, 256 * KiB, 1 * MiB, 4 * MiB, 8 * MiB]) {
      assert.ok(
        maxPartialPieces(DEFAULT_MEMORY_BUDGET, pieceLength) * pieceLength <= DEFAULT_MEMORY_BUDGET / 2,
      );
    }
  });

  test('spare piece buffers are bounded in bytes, with a floor of one buffer when a piece is larger than the bound', () => {
    const pieceLength = 4 * BLOCK;
    const content = randomBytes(8 * pieceLength);
    const meta = metaFor(content, pieceLength);
    const spareBytes = 2 * pieceLength + BLOCK; // room for two whole buffers
    const assembler = new PieceAssembler(meta, { writePiece: async () => {} }, { spareBytes });
    for (let index = 0; index < 6; index++)
      assembler.addBlock(index, 0, content.subarray(index * pieceLength, index * pieceLength + BLOCK), 'a');
    assert.equal(assembler.partialCount, 6);
    for (let index = 0; index < 6; index++) assembler.discard(index);
    assert.equal(assembler.spareBytes, 2 * pieceLength);

    const tight = new PieceAssembler(meta, { writePiece: async () => {} }, { spareBytes: pieceLength - 1 });
    for (let index = 0; index < 3; index++)
      tight.addBlock(index, 0, content.subarray(index * pieceLength, index * pieceLength + BLOCK), 'a');
    for (let index = 0; index < 3; index++) tight.discard(index);
    assert.equal(tight.spareBytes, pieceLength);
  });

  test('a verified piece still gives its buffer back within the spare bound', async () => {
    const pieceLength = 2 * BLOCK;
    const content = randomBytes(4 * pieceLength);
    const meta = metaFor(content, pieceLength);
    const assembler = new PieceAssembler(meta, { writePiece: async () => {} }, { spareBytes: pieceLength });
    for (let index = 0; index < 3; index++) {
      for (let begin = 0; begin < pieceLength; begin += BLOCK) {
        const at = index * pieceLength + begin;
        assembler.addBlock(index, begin, content.subarray(at, at + BLOCK), 'a');
      }
    }
    const outcomes = await Promise.all([0, 1, 2].map((index) => assembler.verify(index)));
    assert.deepEqual(
      outcomes.map((o) => o.valid),
      [true, true, true],
    );
    assert.equal(assembler.spareBytes, pieceLength);
  });

  test('hash-blame records are bounded in bytes: older watched pieces are forgotten first', () => {
    const maxBytes = 10 * HASH_BLAME_RECORD_BYTES;
    const blame = new HashBlame({ maxBytes });
    const block = randomBytes(BLOCK);
    blame.pieceFailed(0);
    for (let i = 0; i < 6; i++) blame.blockReceived('a', 0, i * BLOCK, block);
    blame.pieceFailed(1);
    for (let i = 0; i < 6; i++) blame.blockReceived('b', 1, i * BLOCK, block);
    assert.ok(blame.bytes <= maxBytes, `${blame.bytes} > ${maxBytes}`);
    assert.equal(blame.isWatched(0), false, 'the oldest watched piece made room');
    assert.equal(blame.isWatched(1), true);
    assert.equal(blame.bytes, 6 * HASH_BLAME_RECORD_BYTES);
  });

  test('one huge watched piece alone stops recording at the byte bound', () => {
    const maxBytes = 10 * HASH_BLAME_RECORD_BYTES;
    const blame = new HashBlame({ maxBytes });
    const block = randomBytes(BLOCK);
    blame.pieceFailed(7);
    // 16 MiB piece: 1024 blocks, each from up to 8 senders.
    for (let i = 0; i < 1024; i++) {
      for (const peer of ['a', 'b', 'c']) blame.blockReceived(peer, 7, i * BLOCK, block);
    }
    assert.equal(blame.bytes, maxBytes);
    assert.equal(blame.isWatched(7), true);
    // A verified piece's records are let go.
    blame.pieceVerified(7, Buffer.alloc(1024 * BLOCK));
    assert.equal(blame.bytes, 0);
  });
});
