import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WireError } from '../../../src/errors.js';
import { PEER_ID_PREFIX } from '../../../src/version.js';
import {
  checkHandshakePrefix,
  decodeHandshake,
  encodeHandshake,
  generatePeerId,
  HANDSHAKE_LENGTH,
  reservedBits,
  supportsDht,
  supportsExtensionProtocol,
  supportsFastExtension,
} from '../../../src/wire/handshake.js';

const infoHash = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const peerId = new TextEncoder().encode('-LS0001-abcdefghijkl');

describe('handshake', () => {
  test('encodes the 68-byte BEP 3 layout', () => {
    const reserved = reservedBits({ extensionProtocol: true });
    const bytes = encodeHandshake({ reserved, infoHash, peerId });
    assert.equal(HANDSHAKE_LENGTH, 68);
    assert.equal(bytes.length, 68);
    assert.equal(bytes[0], 19);
    assert.equal(bytes.subarray(1, 20).toString('latin1'), 'BitTorrent protocol');
    assert.deepEqual([...bytes.subarray(20, 28)], [0, 0, 0, 0, 0, 0x10, 0, 0]);
    assert.deepEqual(new Uint8Array(bytes.subarray(28, 48)), infoHash);
    assert.deepEqual(new Uint8Array(bytes.subarray(48, 68)), peerId);
  });

  test('round trips, ignoring bytes after the handshake, and returns copies', () => {
    const reserved = reservedBits({ extensionProtocol: true, fastExtension: true, dht: true });
    const bytes = Buffer.concat([
      encodeHandshake({ reserved, infoHash, peerId }),
      Buffer.from([0, 0, 0, 1, 1]),
    ]);
    const decoded = decodeHandshake(bytes);
    assert.deepEqual(new Uint8Array(decoded.reserved), reserved);
    assert.deepEqual(new Uint8Array(decoded.infoHash), infoHash);
    assert.deepEqual(new Uint8Array(decoded.peerId), peerId);
    bytes.fill(0);
    assert.deepEqual(new Uint8Array(decoded.infoHash), infoHash);
  });

  test('rejects a wrong protocol length, protocol string, or a short handshake', () => {
    const good = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId });
    const wrongLength = Buffer.from(good);
    wrongLength[0] = 18;
    assert.throws(() => decodeHandshake(wrongLength), WireError);
    const wrongString = Buffer.from(good);
    wrongString[5] = 0x58;
    assert.throws(() => decodeHandshake(wrongString), /BitTorrent protocol/);
    assert.throws(() => decodeHandshake(good.subarray(0, 67)), /67 bytes/);
    assert.throws(() => decodeHandshake(new Uint8Array(0)), WireError);
  });

  test('checkHandshakePrefix fails early on partial input from another protocol', () => {
    const good = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId });
    for (let i = 0; i <= good.length; i++) checkHandshakePrefix(good.subarray(0, i));
    assert.throws(() => checkHandshakePrefix(Buffer.from('GET / HTTP/1.1')), WireError);
    assert.throws(() => checkHandshakePrefix(Buffer.from('\x13BitTorrent pro-')), WireError);
  });

  test('encoding fields of the wrong size is a WireError', () => {
    assert.throws(() => encodeHandshake({ reserved: new Uint8Array(7), infoHash, peerId }), WireError);
    assert.throws(() =>
      encodeHandshake({ reserved: new Uint8Array(8), infoHash: new Uint8Array(32), peerId }),
    );
    assert.throws(() =>
      encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId: new Uint8Array(19) }),
    );
  });
});

describe('reserved bits', () => {
  test('each feature sets its own bit', () => {
    assert.deepEqual([...reservedBits({})], [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...reservedBits({ extensionProtocol: true })], [0, 0, 0, 0, 0, 0x10, 0, 0]);
    assert.deepEqual([...reservedBits({ fastExtension: true })], [0, 0, 0, 0, 0, 0, 0, 0x04]);
    assert.deepEqual([...reservedBits({ dht: true })], [0, 0, 0, 0, 0, 0, 0, 0x01]);
  });

  test('reads the features of a real client (libtorrent: 00 00 00 00 00 10 00 05)', () => {
    const reserved = Uint8Array.from([0, 0, 0, 0, 0, 0x10, 0, 0x05]);
    assert.ok(supportsExtensionProtocol(reserved));
    assert.ok(supportsFastExtension(reserved));
    assert.ok(supportsDht(reserved));
    const none = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xff, 0xfa]);
    assert.ok(!supportsExtensionProtocol(none));
    assert.ok(!supportsFastExtension(none));
    assert.ok(!supportsDht(none));
  });
});

describe('generatePeerId', () => {
  test('20 bytes: the prefix, then random printable characters', () => {
    const id = generatePeerId();
    assert.equal(id.length, 20);
    assert.equal(id.subarray(0, 8).toString('latin1'), PEER_ID_PREFIX);
    assert.match(id.toString('latin1'), /^[\x21-\x7e]{20}$/);
    assert.notDeepEqual(generatePeerId(), generatePeerId());
  });

  test('custom prefixes, up to 20 bytes', () => {
    assert.equal(generatePeerId('-XY1234-').subarray(0, 8).toString('latin1'), '-XY1234-');
    assert.equal(generatePeerId('x'.repeat(20)).toString('latin1'), 'x'.repeat(20));
    assert.throws(() => generatePeerId('x'.repeat(21)), { code: 'LODESTONE_ERR_USAGE' });
  });
});
