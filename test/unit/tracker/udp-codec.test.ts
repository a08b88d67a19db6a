import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TrackerError } from '../../../src/errors.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';
import {
  decodeUdpResponse,
  encodeAnnounceRequest,
  encodeConnectRequest,
  UDP_PROTOCOL_ID,
} from '../../../src/tracker/udp-tracker.js';

const infoHash = Buffer.alloc(20, 0xab);
const peerId = Buffer.from('-LS0001-123456789012');

function request(overrides: Partial<AnnounceRequest> = {}): AnnounceRequest {
  return {
    infoHash,
    peerId,
    port: 51413,
    uploaded: 3,
    downloaded: 2,
    left: 1,
    key: 0xcafebabe,
    ...overrides,
  };
}

describe('UDP tracker requests', () => {
  test('connect request: magic, action 0, transaction id', () => {
    const packet = encodeConnectRequest(0x01020304);
    assert.equal(packet.length, 16);
    assert.equal(packet.readBigUInt64BE(0), UDP_PROTOCOL_ID);
    assert.equal(packet.toString('hex'), '00000417271019800000000001020304');
  });

  test('announce request: 98 bytes laid out as BEP 15 says', () => {
    const packet = encodeAnnounceRequest({
      connectionId: 0x1122334455667788n,
      transactionId: 0xfffffffe,
      request: request({ event: 'started', numwant: 30, left: 2 ** 40 }),
    });
    assert.equal(packet.length, 98);
    assert.equal(packet.readBigUInt64BE(0), 0x1122334455667788n);
    assert.equal(packet.readUInt32BE(8), 1);
    assert.equal(packet.readUInt32BE(12), 0xfffffffe);
    assert.deepEqual(packet.subarray(16, 36), infoHash);
    assert.deepEqual(packet.subarray(36, 56), peerId);
    assert.equal(packet.readBigUInt64BE(56), 2n); // downloaded
    assert.equal(packet.readBigUInt64BE(64), 2n ** 40n); // left
    assert.equal(packet.readBigUInt64BE(72), 3n); // uploaded
    assert.equal(packet.readUInt32BE(80), 2); // started
    assert.equal(packet.readUInt32BE(84), 0); // IP: use the source address
    assert.equal(packet.readUInt32BE(88), 0xcafebabe);
    assert.equal(packet.readInt32BE(92), 30);
    assert.equal(packet.readUInt16BE(96), 51413);
  });

  test('event codes: none 0, completed 1, started 2, stopped 3; default numwant 50', () => {
    const codes = [undefined, 'completed', 'started', 'stopped'] as const;
    codes.forEach((event, code) => {
      const packet = encodeAnnounceRequest({
        connectionId: 1n,
        transactionId: 1,
        request: request(event === undefined ? {} : { event }),
      });
      assert.equal(packet.readUInt32BE(80), code);
      assert.equal(packet.readInt32BE(92), 50);
    });
  });

  test('rejects info hashes that are not 20 bytes', () => {
    assert.throws(
      () =>
        encodeAnnounceRequest({
          connectionId: 1n,
          transactionId: 1,
          request: request({ infoHash: Buffer.alloc(32) }),
        }),
      TrackerError,
    );
  });
});

describe('decodeUdpResponse', () => {
  test('connect response', () => {
    const packet = Buffer.alloc(16);
    packet.writeUInt32BE(0, 0);
    packet.writeUInt32BE(77, 4);
    packet.writeBigUInt64BE(0xabcdef0123456789n, 8);
    assert.deepEqual(decodeUdpResponse(packet), {
      action: 'connect',
      transactionId: 77,
      connectionId: 0xabcdef0123456789n,
    });
  });

  test('announce response with IPv4 peers (6-byte entries)', () => {
    const packet = Buffer.alloc(20 + 12);
    packet.writeUInt32BE(1, 0);
    packet.writeUInt32BE(9, 4);
    packet.writeUInt32BE(1800, 8);
    packet.writeUInt32BE(4, 12);
    packet.writeUInt32BE(5, 16);
    Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 10, 1, 2, 3, 0, 0]).copy(packet, 20); // second has port 0
    assert.deepEqual(decodeUdpResponse(packet), {
      action: 'announce',
      transactionId: 9,
      interval: 1800,
      leechers: 4,
      seeders: 5,
      peers: [{ host: '127.0.0.1', port: 6881 }],
    });
  });

  test('announce response on an IPv6 socket uses 18-byte entries', () => {
    const packet = Buffer.alloc(20 + 18);
    packet.writeUInt32BE(1, 0);
    packet[20 + 15] = 1;
    packet.writeUInt16BE(6881, 20 + 16);
    const decoded = decodeUdpResponse(packet, { ipv6: true });
    assert.equal(decoded.action, 'announce');
    assert.deepEqual(decoded.action === 'announce' && decoded.peers, [{ host: '::1', port: 6881 }]);
  });

  test('error response carries the message', () => {
    const packet = Buffer.concat([
      Buffer.from([0, 0, 0, 3, 0, 0, 0, 42]),
      Buffer.from('torrent not registered'),
    ]);
    assert.deepEqual(decodeUdpResponse(packet), {
      action: 'error',
      transactionId: 42,
      message: 'torrent not registered',
    });
  });

  test('wrong lengths and unknown actions throw TrackerError', () => {
    const cases = [
      Buffer.alloc(0),
      Buffer.alloc(7),
      Buffer.from([0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3]), // connect, 11 bytes
      Buffer.alloc(19, 0).fill(1, 3, 4), // announce, 19 bytes
      Buffer.from([0, 0, 0, 9, 0, 0, 0, 1]), // action 9
    ];
    for (const packet of cases) assert.throws(() => decodeUdpResponse(packet), TrackerError);
  });

  test('a bare 8-byte announce header (opentracker refusing a hash) is a refusal', () => {
    assert.throws(() => decodeUdpResponse(Buffer.from([0, 0, 0, 1, 0, 0, 0, 6])), /refused the announce/);
  });

  test('longer-than-needed packets are accepted', () => {
    const packet = Buffer.alloc(24);
    packet.writeUInt32BE(5, 4);
    assert.equal(decodeUdpResponse(packet).action, 'connect');
  });
});
