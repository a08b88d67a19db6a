import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Encodable, encode } from '../../src/bencode/index.js';
import { WireError } from '../../src/errors.js';
import {
  decodePexMessage,
  encodePexMessage,
  MAX_PEX_DECODED_ENTRIES,
  type PexMessage,
} from '../../src/wire/ut-pex.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 1000);

const port = fc.integer({ min: 1, max: 0xffff });
const ipv4 = fc.ipV4().map((host) => ({ host, port: 0 }));
// Canonical text, so a round trip compares equal: fast-check's ipV6 may write uncompressed groups.
const ipv6 = fc.ipV6().map((host) => ({ host: new URL(`http://[${host}]/`).hostname.slice(1, -1), port: 0 }));
const address = fc.tuple(fc.oneof(ipv4, ipv6), port).map(([a, p]) => ({ host: a.host, port: p }));

const message: fc.Arbitrary<PexMessage> = fc
  .tuple(
    fc.array(
      fc.tuple(address, fc.integer({ min: 0, max: 255 })).map(([a, flags]) => ({ address: a, flags })),
      { maxLength: 40 },
    ),
    fc.array(address, { maxLength: 40 }),
  )
  .map(([added, dropped]) => ({ added, dropped }));

/** IPv4 first then IPv6, each in order: how the wire groups them. */
function grouped(m: PexMessage): PexMessage {
  const v6 = (host: string) => host.includes(':');
  return {
    added: [...m.added.filter((p) => !v6(p.address.host)), ...m.added.filter((p) => v6(p.address.host))],
    dropped: [...m.dropped.filter((a) => !v6(a.host)), ...m.dropped.filter((a) => v6(a.host))],
  };
}

test('ut_pex: encode then decode gives the message back (IPv4 before IPv6)', () => {
  fc.assert(
    fc.property(message, (m) => {
      assert.deepEqual(decodePexMessage(encodePexMessage(m)), grouped(m));
    }),
    { numRuns },
  );
});

const stringish = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.integer({ min: 0, max: 120 }).map((n) => new Uint8Array(n * 6)),
  fc.integer({ min: 0, max: 30 }).map((n) => new Uint8Array(n * 18)),
);
const value: fc.Arbitrary<Encodable> = fc.oneof(stringish, fc.integer(), fc.constant([1, 2]));
const dict = fc.dictionary(
  fc.constantFrom('added', 'added.f', 'added6', 'added6.f', 'dropped', 'dropped6', 'x'),
  value,
);

test('ut_pex: hostile payloads decode or throw WireError, never more than the bound per list', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        dict.map((d) => new Uint8Array(encode(d))),
        fc.uint8Array({ maxLength: 300 }),
      ),
      (bytes) => {
        try {
          const decoded = decodePexMessage(bytes);
          assert.ok(decoded.added.length <= 2 * MAX_PEX_DECODED_ENTRIES);
          assert.ok(decoded.dropped.length <= 2 * MAX_PEX_DECODED_ENTRIES);
          for (const peer of decoded.added) assert.ok(peer.flags >= 0 && peer.flags <= 255);
        } catch (error) {
          assert.ok(error instanceof WireError, String(error));
        }
      },
    ),
    { numRuns },
  );
});
