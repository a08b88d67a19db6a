import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../../../src/clock.js';
import { PeerConnection } from '../../../src/peer/peer-connection.js';
import { encodeHaves, encodeMessage, encodeRequests, HANDSHAKE_LENGTH } from '../../../src/wire/index.js';
import type { Handshake } from '../../../src/wire/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { loopbackSocketPair } from '../../helpers/socket-pair.js';

const handshake: Handshake = {
  reserved: new Uint8Array(8),
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
};

/** A PeerConnection (inbound, handshake done) and the raw socket of the other end, on loopback. */
async function connectedPair(
  clock?: Clock,
): Promise<{ connection: PeerConnection; remote: Socket; received: Buffer[] }> {
  const { local: socket, remote } = await loopbackSocketPair();
  const received: Buffer[] = [];
  remote.on('data', (chunk: Buffer) => received.push(chunk));
  const connection = new PeerConnection({
    socket,
    address: { host: '127.0.0.1', port: socket.localPort ?? 0 },
    direction: 'inbound',
    localHandshake: handshake,
    remoteHandshake: handshake,
    ...(clock ? { clock } : {}),
  });
  return { connection, remote, received };
}

async function waitForBytes(received: Buffer[], length: number): Promise<Buffer> {
  for (let i = 0; i < 200; i++) {
    const all = Buffer.concat(received);
    if (all.length >= length) return all;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`only ${Buffer.concat(received).length} of ${length} bytes arrived`);
}

describe('PeerConnection: coalesced haves', () => {
  let pair: Awaited<ReturnType<typeof connectedPair>>;
  const clock = new FakeClock();
  before(async () => {
    pair = await connectedPair(clock);
    await waitForBytes(pair.received, HANDSHAKE_LENGTH);
    pair.received.length = 0;
  });
  after(() => {
    pair.connection.close();
    pair.remote.destroy();
  });

  test('haves sent in a burst leave in one write, 50 ms later', async () => {
    const { connection, received } = pair;
    for (const index of [3, 1, 4]) connection.send({ type: 'have', index });
    assert.equal(received.length, 0);
    assert.equal(connection.writableLength, 0, 'nothing written yet');
    clock.advance(49);
    assert.equal(connection.writableLength, 0, 'nor 49 ms later');
    clock.advance(1);
    const bytes = await waitForBytes(received, 27);
    assert.deepEqual(bytes, encodeHaves([3, 1, 4]));
    assert.equal(received.length, 1, 'one chunk: one write');
    received.length = 0;
  });

  test('a pending have goes out before the next message, in order', async () => {
    const { connection, received } = pair;
    connection.send({ type: 'have', index: 9 });
    const requests = [{ index: 2, begin: 16384, length: 16384 }];
    connection.sendRequests(requests);
    connection.send({ type: 'interested' });
    const expected = Buffer.concat([
      encodeHaves([9]),
      encodeRequests(requests),
      encodeMessage({ type: 'interested' }),
    ]);
    assert.deepEqual(await waitForBytes(received, expected.length), expected);
    // Nothing is sent twice when the coalescing timer would have fired: a message sent after
    // that moment arrives right behind the others, with nothing in between.
    clock.advance(1000);
    connection.send({ type: 'not-interested' });
    const all = Buffer.concat([expected, encodeMessage({ type: 'not-interested' })]);
    assert.deepEqual(await waitForBytes(received, all.length), all);
  });
});
