import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { PeerConnection } from '../../../src/peer/peer-connection.js';
import { BandwidthChain, BandwidthChannel } from '../../../src/policy/bandwidth.js';
import { encodeMessage } from '../../../src/wire/index.js';
import type { Handshake, Message } from '../../../src/wire/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { loopbackSocketPair } from '../../helpers/socket-pair.js';

const handshake: Handshake = {
  reserved: new Uint8Array(8),
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
};

async function throttledPair(rates: { download: number; upload: number }) {
  const clock = new FakeClock();
  const down = new BandwidthChannel(clock, rates.download);
  const up = new BandwidthChannel(clock, rates.upload);
  const { local: socket, remote } = await loopbackSocketPair();
  remote.on('data', () => {});
  const connection = new PeerConnection({
    socket,
    address: { host: '127.0.0.1', port: socket.localPort ?? 0 },
    direction: 'inbound',
    localHandshake: handshake,
    remoteHandshake: handshake,
    clock,
  });
  connection.setThrottles({ download: new BandwidthChain([down]), upload: new BandwidthChain([up]) });
  const messages: Message[] = [];
  connection.on('message', (message) => messages.push(message));
  return { clock, down, up, connection, remote, messages };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

test('reads pause while the download throttle is in debt and resume when it is repaid', async (t) => {
  const { clock, down, connection, remote, messages } = await throttledPair({ download: 1000, upload: 0 });
  t.after(() => {
    connection.close();
    remote.destroy();
  });
  remote.write(encodeMessage({ type: 'have', index: 7 }));
  await once(connection, 'message');
  // 9 bytes paid into an empty 1000 B/s bucket: 9 ms of debt, reading paused.
  assert.equal(down.delayMs(), 9);
  remote.write(encodeMessage({ type: 'have', index: 8 }));
  await nextTurn();
  assert.equal(messages.length, 1, 'nothing is read while in debt');
  clock.advance(9);
  await once(connection, 'message');
  assert.deepEqual(
    messages.map((m) => (m.type === 'have' ? m.index : -1)),
    [7, 8],
  );
});

test('a closed connection forgets its wait', async () => {
  const { down, connection, remote } = await throttledPair({ download: 1000, upload: 0 });
  remote.write(encodeMessage({ type: 'have', index: 7 }));
  await once(connection, 'message');
  assert.equal(down.waiting, 1);
  connection.close();
  remote.destroy();
  assert.equal(down.waiting, 0);
});

test('pieces pay block and header; the uploader waits for the quota', async (t) => {
  const { clock, up, connection, remote } = await throttledPair({ download: 0, upload: 1000 });
  t.after(() => {
    connection.close();
    remote.destroy();
  });
  assert.equal(connection.uploadThrottled, false);
  connection.sendPiece(0, 0, new Uint8Array(987));
  assert.equal(up.delayMs(), 1000, '987 bytes of block and 13 of header');
  assert.equal(connection.uploadThrottled, true);
  let granted = false;
  const waiting = connection.waitForUploadQuota().then(() => {
    granted = true;
  });
  clock.advance(999);
  await Promise.resolve();
  assert.equal(granted, false);
  clock.advance(1);
  await waiting;
  assert.equal(connection.uploadThrottled, false);
  // Control messages are counted but never held.
  connection.send({ type: 'unchoke' });
  assert.equal(up.delayMs(), 5);
});

test('waiting for the quota ends when the connection closes', async () => {
  const { connection, remote } = await throttledPair({ download: 0, upload: 1000 });
  connection.sendPiece(0, 0, new Uint8Array(50_000));
  const waiting = connection.waitForUploadQuota();
  connection.close();
  remote.destroy();
  await waiting;
});
