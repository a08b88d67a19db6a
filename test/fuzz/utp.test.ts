import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeUtpPacket, encodeUtpPacket, UTP_HEADER_SIZE } from '../../src/net/utp/packet.js';
import { utpPacketArbitrary } from '../helpers/utp-arbitrary.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

test('uTP decoder: random bytes never throw, and a success stays inside the datagram', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      // Make half the inputs start like uTP so the extension chain gets exercised.
      if (bytes.length > 1 && bytes[0]! % 2 === 0) bytes[0] = (((bytes[0]! >> 1) % 5) << 4) | 1;
      const result = decodeUtpPacket(bytes);
      if (result.ok) {
        assert.ok(result.packet.payload.length <= bytes.length - UTP_HEADER_SIZE);
        assert.ok((result.packet.sack?.length ?? 0) <= 255);
      }
    }),
    { numRuns },
  );
});

test('uTP decoder: a valid packet cut or flipped anywhere yields a result, never a throw', () => {
  fc.assert(
    fc.property(
      utpPacketArbitrary,
      fc.nat(),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      (p, cut, at, value) => {
        const bytes = Buffer.from(encodeUtpPacket(p));
        bytes[at % bytes.length] = value;
        const result = decodeUtpPacket(bytes.subarray(0, cut % (bytes.length + 1)));
        assert.equal(typeof result.ok, 'boolean');
      },
    ),
    { numRuns },
  );
});
