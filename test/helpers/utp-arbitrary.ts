import fc from 'fast-check';
import { UTP_TYPES, type UtpPacket } from '../../src/net/utp/packet.js';

/** Any well-formed uTP packet (a SACK of any length the length byte allows). */
export const utpPacketArbitrary: fc.Arbitrary<UtpPacket> = fc.record({
  type: fc.constantFrom(...UTP_TYPES),
  connectionId: fc.integer({ min: 0, max: 0xffff }),
  timestamp: fc.integer({ min: 0, max: 0xffffffff }),
  timestampDiff: fc.integer({ min: 0, max: 0xffffffff }),
  windowSize: fc.integer({ min: 0, max: 0xffffffff }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  ack: fc.integer({ min: 0, max: 0xffff }),
  sack: fc.option(fc.uint8Array({ minLength: 1, maxLength: 255 }), { nil: undefined }),
  payload: fc.uint8Array({ maxLength: 64 }),
});
