/**
 * A listener that throws while a PeerConnection hands it a message, its handshake or its close
 * is a programming error: the connection ends, and the error is reported as 'internal-error'
 * (not turned into a quiet disconnect). A peer's protocol violation is not an internal error.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { PeerConnection } from '../../../src/peer/peer-connection.js';
import { encodeHandshake, encodeMessage } from '../../../src/wire/index.js';
import type { Handshake } from '../../../src/wire/types.js';
import { loopbackSocketPair } from '../../helpers/socket-pair.js';

const handshake: Handshake = {
  reserved: new Uint8Array(8),
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
};

/** A PeerConnection and the raw socket of the other end, on loopback. */
async function pair(
  direction: 'inbound' | 'outbound',
): Promise<{ connection: PeerConnection; remote: Socket }> {
  const { local: socket, remote } = await loopbackSocketPair();
  const connection = new PeerConnection({
    socket,
    address: { host: '127.0.0.1', port: socket.localPort ?? 0 },
    direction,
    localHandshake: handshake,
    ...(direction === 'inbound' ? { remoteHandshake: handshake } : {}),
  });
  return { connection, remote };
}

/** Resolves with the first internal error and the close reason, or rejects after 5 s. */
function outcome(connection: PeerConnection): Promise<{ errors: Error[]; reason: string | undefined }> {
  const errors: Error[] = [];
  connection.on('internal-error', (error) => errors.push(error));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the connection never closed')), 5000);
    connection.once('close', (reason) => {
      clearTimeout(timer);
      // Reported right after the close, in the same call.
      queueMicrotask(() => resolve({ errors, reason }));
    });
  });
}

test('a message listener that throws: the error is reported as internal-error and the connection ends', {
  timeout: 10_000,
}, async (t) => {
  const { connection, remote } = await pair('inbound');
  t.after(() => remote.destroy());
  const bug = new TypeError('cannot read properties of undefined (reading "has")');
  const delivered: string[] = [];
  connection.on('message', (message) => {
    delivered.push(message.type);
    if (message.type === 'interested') throw bug;
  });
  const result = outcome(connection);
  remote.write(
    Buffer.concat([
      encodeMessage({ type: 'unchoke' }),
      encodeMessage({ type: 'interested' }),
      encodeMessage({ type: 'have', index: 1 }),
    ]),
  );
  const { errors, reason } = await result;
  assert.deepEqual(errors, [bug], 'the very error, with its stack, is reported');
  assert.equal(reason, `internal error: ${bug.message}`);
  assert.deepEqual(delivered, ['unchoke', 'interested'], 'nothing is delivered after the failure');
});

test('a handshake listener that throws is reported too', { timeout: 10_000 }, async (t) => {
  const { connection, remote } = await pair('outbound');
  t.after(() => remote.destroy());
  const bug = new RangeError('handshake handler bug');
  connection.on('handshake', () => {
    throw bug;
  });
  const result = outcome(connection);
  remote.write(encodeHandshake(handshake));
  const { errors, reason } = await result;
  assert.deepEqual(errors, [bug]);
  assert.equal(reason, `internal error: ${bug.message}`);
});

test('a close listener that throws is reported, not thrown into the socket callback', {
  timeout: 10_000,
}, async (t) => {
  const { connection, remote } = await pair('inbound');
  t.after(() => remote.destroy());
  const bug = new Error('close handler bug');
  const result = outcome(connection);
  connection.on('close', () => {
    throw bug;
  });
  remote.end(); // the peer goes away: the close comes from the socket's own callback
  const { errors, reason } = await result;
  assert.deepEqual(errors, [bug]);
  assert.equal(reason, 'connection closed by peer');
});

test('a protocol violation by the peer is not an internal error', { timeout: 10_000 }, async (t) => {
  const { connection, remote } = await pair('inbound');
  t.after(() => remote.destroy());
  const result = outcome(connection);
  // A length prefix far beyond any message the decoder accepts.
  remote.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x07]));
  const { errors, reason } = await result;
  assert.deepEqual(errors, []);
  assert.match(reason ?? '', /exceeds the maximum/);
});
