import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WireError } from '../../../src/errors.js';
import {
  decodeMetadataMessage,
  encodeMetadataMessage,
  expectedMetadataBlockLength,
  MAX_METADATA_SIZE,
  METADATA_BLOCK_SIZE,
  type MetadataMessage,
  metadataPieceCount,
  validateMetadataSize,
} from '../../../src/wire/ut-metadata.js';

const text = (value: string) => new TextEncoder().encode(value);
const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

function roundTrip(message: MetadataMessage): MetadataMessage {
  const decoded = decodeMetadataMessage(encodeMetadataMessage(message));
  return decoded.msgType === 'data' ? { ...decoded, data: Uint8Array.from(decoded.data) } : decoded;
}

describe('ut_metadata messages (BEP 9)', () => {
  test('request, reject and data encode as BEP 9 shows them', () => {
    assert.equal(
      latin1(encodeMetadataMessage({ msgType: 'request', piece: 0 })),
      'd8:msg_typei0e5:piecei0ee',
    );
    assert.equal(latin1(encodeMetadataMessage({ msgType: 'reject', piece: 2 })), 'd8:msg_typei2e5:piecei2ee');
    const data = encodeMetadataMessage({ msgType: 'data', piece: 1, totalSize: 16387, data: text('xyz') });
    assert.equal(latin1(data), 'd8:msg_typei1e5:piecei1e10:total_sizei16387eexyz');
  });

  test('round trips', () => {
    const full = Uint8Array.from({ length: METADATA_BLOCK_SIZE }, (_, i) => i & 0xff);
    const messages: MetadataMessage[] = [
      { msgType: 'request', piece: 0 },
      { msgType: 'request', piece: 511 },
      { msgType: 'reject', piece: 3 },
      { msgType: 'data', piece: 0, totalSize: 20000, data: full },
      { msgType: 'data', piece: 1, totalSize: 20000, data: new Uint8Array(3616) },
      { msgType: 'unknown', code: 7 },
    ];
    for (const message of messages) assert.deepStrictEqual(roundTrip(message), message);
  });

  test('data is the raw bytes after the dictionary, even when they look like bencode', () => {
    const payload = text('d8:msg_typei1e5:piecei0e10:total_sizei5eed1:ae');
    const decoded = decodeMetadataMessage(payload);
    assert.equal(decoded.msgType, 'data');
    if (decoded.msgType === 'data') assert.equal(latin1(decoded.data), 'd1:ae');
  });

  test('unknown msg_type is a typed value, not an error (BEP 9: ignore it)', () => {
    assert.deepStrictEqual(decodeMetadataMessage(text('d8:msg_typei9e5:piecei0ee')), {
      msgType: 'unknown',
      code: 9,
    });
  });

  test('data longer than 16 KiB is a WireError, decoding and encoding', () => {
    const dict = text('d8:msg_typei1e5:piecei0e10:total_sizei99999ee');
    const payload = new Uint8Array(dict.length + METADATA_BLOCK_SIZE + 1);
    payload.set(dict);
    assert.throws(() => decodeMetadataMessage(payload), WireError);
    const data = new Uint8Array(METADATA_BLOCK_SIZE + 1);
    assert.throws(
      () => encodeMetadataMessage({ msgType: 'data', piece: 0, totalSize: 99999, data }),
      WireError,
    );
  });

  test('malformed messages are WireErrors', () => {
    const bad = [
      '',
      'i1e',
      'le',
      'd8:msg_typei0e5:piecei0e', // unterminated
      'd5:piecei0ee', // no msg_type
      'd8:msg_type1:0e', // msg_type not an integer
      'd8:msg_typei0ee', // no piece
      'd8:msg_typei0e5:piecei-1ee',
      'd8:msg_typei0e5:piecei512ee', // past the largest metadata
      'd8:msg_typei0e5:piecei0eextra', // bytes after a request
      'd8:msg_typei1e5:piecei0eexyz', // data without total_size
      'd8:msg_typei1e5:piecei0e10:total_sizei-1eexyz',
    ];
    for (const payload of bad) assert.throws(() => decodeMetadataMessage(text(payload)), WireError, payload);
  });

  test('encoding a piece out of range is a WireError', () => {
    assert.throws(() => encodeMetadataMessage({ msgType: 'request', piece: -1 }), WireError);
    assert.throws(() => encodeMetadataMessage({ msgType: 'request', piece: 512 }), WireError);
  });
});

describe('metadata size helpers', () => {
  test('piece counts and block lengths', () => {
    assert.equal(metadataPieceCount(1), 1);
    assert.equal(metadataPieceCount(16384), 1);
    assert.equal(metadataPieceCount(16385), 2);
    assert.equal(metadataPieceCount(MAX_METADATA_SIZE), 512);
    assert.equal(expectedMetadataBlockLength(16385, 0), 16384);
    assert.equal(expectedMetadataBlockLength(16385, 1), 1);
    assert.equal(expectedMetadataBlockLength(32768, 1), 16384);
    assert.equal(expectedMetadataBlockLength(100, 0), 100);
  });

  test('invalid sizes and pieces are LODESTONE_ERR_METADATA', () => {
    for (const size of [0, -1, 1.5, Number.NaN, MAX_METADATA_SIZE + 1]) {
      assert.throws(() => validateMetadataSize(size), { code: 'LODESTONE_ERR_METADATA' }, String(size));
      assert.throws(() => metadataPieceCount(size), { code: 'LODESTONE_ERR_METADATA' });
    }
    validateMetadataSize(1);
    validateMetadataSize(MAX_METADATA_SIZE);
    assert.throws(() => expectedMetadataBlockLength(16385, 2), { code: 'LODESTONE_ERR_METADATA' });
    assert.throws(() => expectedMetadataBlockLength(16385, -1), { code: 'LODESTONE_ERR_METADATA' });
  });
});
