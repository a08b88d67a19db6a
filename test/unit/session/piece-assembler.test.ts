import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { TorrentMetadata } from '../../../src/metainfo/types.js';
import { PieceAssembler } from '../../../src/session/piece-assembler.js';
import { metaFor } from './fixtures.js';

const BLOCK = 16_384;

class RecordingWriter {
  readonly written = new Map<number, Buffer>();
  async writePiece(index: number, blocks: readonly Uint8Array[]): Promise<void> {
    this.written.set(index, Buffer.concat(blocks));
  }
}

function blocksOf(content: Buffer, meta: TorrentMetadata, index: number): { begin: number; data: Buffer }[] {
  const start = index * meta.pieceLength;
  const length = index === meta.pieceCount - 1 ? meta.lastPieceLength : meta.pieceLength;
  const out = [];
  for (let begin = 0; begin < length; begin += BLOCK) {
    out.push({ begin, data: content.subarray(start + begin, start + Math.min(length, begin + BLOCK)) });
  }
  return out;
}

describe('PieceAssembler (incremental SHA-1)', () => {
  test('any arrival order of the blocks verifies and writes the exact piece', async () => {
    const content = randomBytes(4 * BLOCK * 3 + 5000); // last piece short, with a short last block
    const meta = metaFor(content, 4 * BLOCK);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: meta.pieceCount - 1 }),
        fc.func(fc.integer()),
        async (index, rank) => {
          const writer = new RecordingWriter();
          const assembler = new PieceAssembler(meta, writer);
          const blocks = blocksOf(content, meta, index);
          const order = blocks.map((block, i) => ({ block, key: rank(i) })).sort((a, b) => a.key - b.key);
          // Views over a buffer that is overwritten afterwards, as the socket's read buffer is.
          const scratch = Buffer.alloc(BLOCK);
          for (const { block } of order) {
            block.data.copy(scratch);
            assembler.addBlock(index, block.begin, scratch.subarray(0, block.data.length), '127.0.0.2:1');
            scratch.fill(0xee);
          }
          const outcome = await assembler.verify(index);
          assert.equal(outcome.valid, true);
          const start = index * meta.pieceLength;
          assert.deepEqual(
            writer.written.get(index),
            content.subarray(start, start + blocks.reduce((n, b) => n + b.data.length, 0)),
          );
          assert.equal(assembler.partialCount, 0);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a corrupted block fails the piece, writes nothing and names the contributors', async () => {
    const content = randomBytes(8 * BLOCK);
    const meta = metaFor(content, 4 * BLOCK);
    const writer = new RecordingWriter();
    const assembler = new PieceAssembler(meta, writer);
    const blocks = blocksOf(content, meta, 1);
    assembler.addBlock(1, blocks[2]!.begin, blocks[2]!.data, 'b');
    const bad = Buffer.from(blocks[0]!.data);
    bad[100] = bad[100]! ^ 1;
    assembler.addBlock(1, 0, bad, 'a');
    assembler.addBlock(1, blocks[1]!.begin, blocks[1]!.data, 'a');
    assembler.addBlock(1, blocks[3]!.begin, blocks[3]!.data, 'b');
    const outcome = await assembler.verify(1);
    assert.equal(outcome.valid, false);
    assert.deepEqual([...outcome.contributors].sort(), ['a', 'b']);
    assert.equal(writer.written.size, 0);

    // The same piece downloaded again starts from a clean hash.
    for (const block of blocks) assembler.addBlock(1, block.begin, block.data, 'c');
    assert.equal((await assembler.verify(1)).valid, true);
    assert.deepEqual(writer.written.get(1), content.subarray(4 * BLOCK, 8 * BLOCK));
  });

  test('verifying a piece with a block missing is an error, not a pass', async () => {
    const content = randomBytes(4 * BLOCK);
    const meta = metaFor(content, 4 * BLOCK);
    const assembler = new PieceAssembler(meta, new RecordingWriter());
    const blocks = blocksOf(content, meta, 0);
    for (const block of blocks.slice(0, 3)) assembler.addBlock(0, block.begin, block.data, 'a');
    assert.equal((await assembler.verify(0)).valid, 'error');
  });

  test('a failing write is reported as an error outcome', async () => {
    const content = randomBytes(2 * BLOCK);
    const meta = metaFor(content, 2 * BLOCK);
    const assembler = new PieceAssembler(meta, {
      writePiece: async () => {
        throw new Error('disk full');
      },
    });
    for (const block of blocksOf(content, meta, 0)) assembler.addBlock(0, block.begin, block.data, 'a');
    const outcome = await assembler.verify(0);
    assert.equal(outcome.valid, 'error');
    assert.equal(assembler.pendingBytes, 0);
  });
});
