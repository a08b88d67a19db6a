import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeUtpPacket, encodeUtpPacket, looksLikeUtp, seqDiff } from '../../../../src/net/utp/packet.js';
import { utpPacketArbitrary } from '../../../helpers/utp-arbitrary.js';

describe('uTP packet codec', () => {
  test('encodes the 20-byte header of BEP 29 field by field', () => {
    const bytes = encodeUtpPacket({
      type: 'syn',
      connectionId: 0x1234,
      timestamp: 0x01020304,
      timestampDiff: 0x0a0b0c0d,
      windowSize: 0x00100000,
      seq: 1,
      ack: 0xfffe,
      payload: new Uint8Array(0),
    });
    assert.equal(bytes.toString('hex'), '4100123401020304' + '0a0b0c0d' + '00100000' + '0001' + 'fffe');
  });

  test('a selective ACK rides as extension 1 with its length, and decodes back', () => {
    const sack = Uint8Array.of(0b101, 0, 0, 0x80);
    const bytes = encodeUtpPacket({
      type: 'state',
      connectionId: 7,
      timestamp: 1,
      timestampDiff: 2,
      windowSize: 3,
      seq: 4,
      ack: 5,
      sack,
      payload: new Uint8Array(0),
    });
    assert.equal(bytes.length, 20 + 2 + 4);
    assert.equal(bytes[0], 0x21);
    assert.equal(bytes[1], 1);
    assert.deepEqual([bytes[20], bytes[21]], [0, 4]);
    const decoded = decodeUtpPacket(bytes);
    assert.ok(decoded.ok);
    assert.deepEqual([...decoded.packet.sack!], [...sack]);
    assert.equal(decoded.packet.payload.length, 0);
  });

  test('unknown extensions are skipped; the payload follows the chain', () => {
    const header = Buffer.from(
      encodeUtpPacket({
        type: 'data',
        connectionId: 1,
        timestamp: 0,
        timestampDiff: 0,
        windowSize: 0,
        seq: 9,
        ack: 8,
        payload: new Uint8Array(0),
      }),
    );
    header[1] = 2; // close-reason extension (libtorrent), then a SACK
    const datagram = Buffer.concat([header, Buffer.from([1, 2, 0xaa, 0xbb, 0, 1, 0xff]), Buffer.from('hi')]);
    const decoded = decodeUtpPacket(datagram);
    assert.ok(decoded.ok);
    assert.deepEqual([...decoded.packet.sack!], [0xff]);
    assert.equal(Buffer.from(decoded.packet.payload).toString(), 'hi');
  });

  test('garbage is a typed failure, never a throw', () => {
    assert.deepEqual(decodeUtpPacket(new Uint8Array(19)), { ok: false, reason: 'short' });
    const good = encodeUtpPacket({
      type: 'data',
      connectionId: 1,
      timestamp: 0,
      timestampDiff: 0,
      windowSize: 0,
      seq: 9,
      ack: 8,
      payload: new Uint8Array(0),
    });
    const badVersion = Buffer.from(good);
    badVersion[0] = 0x02;
    assert.deepEqual(decodeUtpPacket(badVersion), { ok: false, reason: 'version' });
    const badType = Buffer.from(good);
    badType[0] = 0x51;
    assert.deepEqual(decodeUtpPacket(badType), { ok: false, reason: 'type' });
    const truncated = Buffer.from(good);
    truncated[1] = 1;
    assert.deepEqual(decodeUtpPacket(truncated), { ok: false, reason: 'extension-truncated' });
    const overlong = Buffer.concat([truncated, Buffer.from([0, 200, 1, 2])]);
    assert.deepEqual(decodeUtpPacket(overlong), { ok: false, reason: 'extension-truncated' });
    const emptySack = Buffer.concat([truncated, Buffer.from([0, 0])]);
    assert.deepEqual(decodeUtpPacket(emptySack), { ok: false, reason: 'sack-empty' });
    const chain = Buffer.from(good);
    chain[1] = 9;
    const loop = Buffer.concat([chain, Buffer.alloc(40, 9).map((_, i) => (i % 2 === 0 ? 9 : 0))]);
    assert.deepEqual(decodeUtpPacket(loop), { ok: false, reason: 'too-many-extensions' });
  });

  test('looksLikeUtp: version 1 and type ≤ 4, never a bencoded dictionary', () => {
    const good = encodeUtpPacket({
      type: 'syn',
      connectionId: 1,
      timestamp: 0,
      timestampDiff: 0,
      windowSize: 0,
      seq: 1,
      ack: 0,
      payload: new Uint8Array(0),
    });
    assert.equal(looksLikeUtp(good), true);
    assert.equal(looksLikeUtp(Buffer.concat([Buffer.from('d1:ad2:id20:'), Buffer.alloc(20)])), false);
    assert.equal(looksLikeUtp(good.subarray(0, 19)), false);
  });

  test('seqDiff wraps at 16 bits', () => {
    assert.equal(seqDiff(0, 0xffff), 1);
    assert.equal(seqDiff(0xffff, 0), -1);
    assert.equal(seqDiff(5, 5), 0);
    assert.equal(seqDiff(0x8000, 0), -0x8000);
  });

  test('property: encode then decode gives the packet back', () => {
    fc.assert(
      fc.property(utpPacketArbitrary, (packet) => {
        const decoded = decodeUtpPacket(encodeUtpPacket(packet));
        assert.ok(decoded.ok);
        assert.deepEqual(
          {
            ...decoded.packet,
            payload: [...decoded.packet.payload],
            sack: decoded.packet.sack && [...decoded.packet.sack],
          },
          { ...packet, payload: [...packet.payload], sack: packet.sack && [...packet.sack] },
        );
      }),
      { numRuns: 500 },
    );
  });
});
