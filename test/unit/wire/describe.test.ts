import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeHandshake, describeMessage } from '../../../src/wire/describe.js';
import { reservedBits } from '../../../src/wire/handshake.js';
import type { Message } from '../../../src/wire/types.js';

test('one line per message', () => {
  const cases: [Message, string][] = [
    [{ type: 'keep-alive' }, 'keep-alive'],
    [{ type: 'choke' }, 'choke'],
    [{ type: 'not-interested' }, 'not-interested'],
    [{ type: 'have', index: 7 }, 'have index=7'],
    [
      { type: 'request', index: 12, begin: 16384, length: 16384 },
      'request index=12 begin=16384 length=16384',
    ],
    [
      { type: 'piece', index: 12, begin: 0, block: new Uint8Array(16384) },
      'piece index=12 begin=0 length=16384',
    ],
    [{ type: 'cancel', index: 1, begin: 2, length: 3 }, 'cancel index=1 begin=2 length=3'],
    [{ type: 'reject', index: 1, begin: 2, length: 3 }, 'reject index=1 begin=2 length=3'],
    [{ type: 'port', port: 6881 }, 'port 6881'],
    [{ type: 'suggest', index: 3 }, 'suggest index=3'],
    [{ type: 'allowed-fast', index: 4 }, 'allowed-fast index=4'],
    [{ type: 'have-all' }, 'have-all'],
    [{ type: 'have-none' }, 'have-none'],
    [{ type: 'extended', id: 3, payload: new Uint8Array(42) }, 'extended id=3 (42 bytes)'],
    [{ type: 'extended', id: 0, payload: new Uint8Array(80) }, 'extended id=0 handshake (80 bytes)'],
    [{ type: 'unknown', id: 99, length: 12 }, 'unknown id=99 (length 12)'],
  ];
  for (const [message, line] of cases) assert.equal(describeMessage(message), line);
});

test('bitfields as pieces when the count is known, else as bits', () => {
  const bits = Uint8Array.from([0xff, 0x80, 0x00, 0xff]);
  assert.equal(describeMessage({ type: 'bitfield', bits }, 26), 'bitfield 11/26 pieces');
  assert.equal(describeMessage({ type: 'bitfield', bits }, 32), 'bitfield 17/32 pieces');
  assert.equal(describeMessage({ type: 'bitfield', bits }), 'bitfield 17 set of 32 bits (4 bytes)');
  assert.equal(describeMessage({ type: 'bitfield', bits }, 99), 'bitfield 17 set of 32 bits (4 bytes)');
  assert.equal(describeMessage({ type: 'bitfield', bits: new Uint8Array(0) }, 0), 'bitfield 0/0 pieces');
});

test('handshake with hex info-hash, printable peer id and named flags', () => {
  const line = describeHandshake({
    reserved: reservedBits({ extensionProtocol: true, fastExtension: true }),
    infoHash: Uint8Array.from({ length: 20 }, (_, i) => i),
    peerId: Uint8Array.from([...new TextEncoder().encode('-qB4630-abcdefghij'), 0x00, 0x5c]),
  });
  assert.equal(
    line,
    'handshake info_hash=000102030405060708090a0b0c0d0e0f10111213 peer_id=-qB4630-abcdefghij\\x00\\\\ ' +
      'reserved=0000000000100004 [extension-protocol fast]',
  );
  const plain = describeHandshake({
    reserved: new Uint8Array(8),
    infoHash: new Uint8Array(20),
    peerId: new Uint8Array(20),
  });
  assert.ok(!plain.includes('['));
});
