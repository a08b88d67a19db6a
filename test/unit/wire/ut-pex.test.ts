import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encode } from '../../../src/bencode/index.js';
import { WireError } from '../../../src/errors.js';
import {
  decodePexMessage,
  encodePexMessage,
  MAX_PEX_DECODED_ENTRIES,
  PEX_FLAGS,
  type PexMessage,
} from '../../../src/wire/ut-pex.js';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

/** n compact IPv4 peers 10.0.x.y:(1000 + i). */
function compact4(n: number): Uint8Array {
  const out = new Uint8Array(n * 6);
  for (let i = 0; i < n; i++) {
    out.set([10, 0, (i >> 8) & 0xff, i & 0xff, ((1000 + i) >> 8) & 0xff, (1000 + i) & 0xff], i * 6);
  }
  return out;
}

describe('ut_pex messages (BEP 11)', () => {
  test('encodes the six lists, IPv4 and IPv6 apart, flags one byte per added peer', () => {
    const payload = encodePexMessage({
      added: [
        { address: { host: '1.2.3.4', port: 0x1ae1 }, flags: PEX_FLAGS.seed | PEX_FLAGS.reachable },
        { address: { host: '::1', port: 6881 }, flags: PEX_FLAGS.utp },
      ],
      dropped: [{ host: '5.6.7.8', port: 258 }],
    });
    const v6 = `${'\0'.repeat(15)}\x01\x1a\xe1`;
    assert.equal(
      latin1(payload),
      `d5:added6:\x01\x02\x03\x04\x1a\xe17:added.f1:\x126:added618:${v6}8:added6.f1:\x047:dropped6:\x05\x06\x07\x08\x01\x028:dropped60:e`,
    );
  });

  test('an empty message still carries every list, empty (as libtorrent writes it)', () => {
    assert.equal(
      latin1(encodePexMessage({ added: [], dropped: [] })),
      'd5:added0:7:added.f0:6:added60:8:added6.f0:7:dropped0:8:dropped60:e',
    );
  });

  test('round trips, IPv6 in canonical text', () => {
    const message: PexMessage = {
      added: [
        { address: { host: '127.0.0.2', port: 1 }, flags: 0 },
        { address: { host: '192.168.1.20', port: 65535 }, flags: 0xff },
        { address: { host: '2001:db8::7', port: 51413 }, flags: PEX_FLAGS.encryption },
      ],
      dropped: [
        { host: '8.8.4.4', port: 443 },
        { host: 'fe80::1:2', port: 9 },
      ],
    };
    assert.deepEqual(decodePexMessage(encodePexMessage(message)), message);
    // Uncompressed text in, canonical text out.
    const decoded = decodePexMessage(
      encodePexMessage({
        added: [{ address: { host: '2001:0DB8:0:0:0:0:0:07', port: 5 }, flags: 0 }],
        dropped: [],
      }),
    );
    assert.equal(decoded.added[0]?.address.host, '2001:db8::7');
  });

  test('missing lists read as empty; flags shorter than added leave the rest 0, longer ones are cut', () => {
    assert.deepEqual(decodePexMessage(encode({})), { added: [], dropped: [] });
    const short = decodePexMessage(encode({ added: compact4(3), 'added.f': Uint8Array.of(0x02) }));
    assert.deepEqual(
      short.added.map((p) => p.flags),
      [0x02, 0, 0],
    );
    const none = decodePexMessage(encode({ added: compact4(2) }));
    assert.deepEqual(
      none.added.map((p) => p.flags),
      [0, 0],
    );
    const long = decodePexMessage(encode({ added: compact4(1), 'added.f': Uint8Array.of(4, 5, 6) }));
    assert.deepEqual(long.added, [{ address: { host: '10.0.0.0', port: 1000 }, flags: 4 }]);
  });

  test('each list is read up to the bound; the rest of a flood is ignored', () => {
    const decoded = decodePexMessage(
      encode({ added: compact4(5000), dropped: compact4(5000), 'added.f': new Uint8Array(5000) }),
    );
    assert.equal(decoded.added.length, MAX_PEX_DECODED_ENTRIES);
    assert.equal(decoded.dropped.length, MAX_PEX_DECODED_ENTRIES);
    assert.deepEqual(decoded.added[99]?.address, { host: '10.0.0.99', port: 1099 });
  });

  test('malformed: not bencode, not a dictionary, a list not a multiple of its entry size', () => {
    const bad: [string, Uint8Array][] = [
      ['garbage', Buffer.from('d5:added')],
      ['a list', encode([1, 2])],
      ['added of 7 bytes', encode({ added: new Uint8Array(7) })],
      ['dropped of 5 bytes', encode({ dropped: new Uint8Array(5) })],
      ['added6 of 6 bytes', encode({ added6: new Uint8Array(6) })],
      ['dropped6 of 19 bytes', encode({ dropped6: new Uint8Array(19) })],
    ];
    for (const [name, payload] of bad) {
      assert.throws(() => decodePexMessage(payload), WireError, name);
    }
  });

  test('fields of the wrong type read as absent; unknown keys are ignored', () => {
    const decoded = decodePexMessage(encode({ added: 5, dropped: [1], e: 1, 'added.f': 3 }));
    assert.deepEqual(decoded, { added: [], dropped: [] });
  });

  test('refuses to encode what the wire cannot carry', () => {
    const bad: PexMessage[] = [
      { added: [{ address: { host: 'example.com', port: 1 }, flags: 0 }], dropped: [] },
      { added: [{ address: { host: '1.2.3.4', port: 0 }, flags: 0 }], dropped: [] },
      { added: [{ address: { host: '1.2.3.4', port: 70000 }, flags: 0 }], dropped: [] },
      { added: [{ address: { host: '1.2.3.4', port: 1 }, flags: 256 }], dropped: [] },
      { added: [], dropped: [{ host: '1.2.3.4', port: -1 }] },
    ];
    for (const message of bad) assert.throws(() => encodePexMessage(message), WireError);
  });
});
