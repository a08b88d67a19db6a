/**
 * A PeerConnection's own timers on a fake clock: a peer silent for 3 minutes
 * is dropped and told why, we send a keep-alive after 90 s of quiet, and a
 * dialled peer has 10 s to answer our handshake. The sockets are real
 * (loopback); time is not: the test moves the clock and waits only for bytes.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { PeerConnection, type PeerConnectionOptions } from '../../../src/peer/peer-connection.js';
import { encodeMessage, HANDSHAKE_LENGTH } from '../../../src/wire/index.js';
import type { Handshake, Message } from '../../../src/wire/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { loopbackSocketPair } from '../../helpers/socket-pair.js';

const handshake: Handshake = {
  reserved: new Uint8Array(8),
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
};
const KEEP_ALIVE = Buffer.alloc(4);

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0)) done();
});

interface Pair {
  clock: FakeClock;
  connection: PeerConnection;
  remote: Socket;
  /** Bytes the remote end received, after our handshake. */
  received: Buffer[];
  sent: Message['type'][];
  closeReasons: (string | undefined)[];
}

/** A PeerConnection on a fake clock and the raw socket of the other end, on loopback. */
async function connectedPair(options: Partial<PeerConnectionOptions> = {}, inbound = true): Promise<Pair> {
  const clock = new FakeClock();
  const { local: socket, remote } = await loopbackSocketPair();
  const connection = new PeerConnection({
    socket,
    address: { host: '127.0.0.1', port: socket.localPort ?? 0 },
    direction: inbound ? 'inbound' : 'outbound',
    localHandshake: handshake,
    ...(inbound ? { remoteHandshake: handshake } : {}),
    clock,
    ...options,
  });
  cleanup.push(() => {
    connection.close();
    remote.destroy();
  });
  const sent: Message['type'][] = [];
  connection.traced = true;
  connection.on('wire', (direction, message) => {
    if (direction === 'out') sent.push(message.type);
  });
  const closeReasons: (string | undefined)[] = [];
  connection.on('close', (reason) => closeReasons.push(reason));
  const received: Buffer[] = [];
  let skip = HANDSHAKE_LENGTH;
  remote.on('data', (chunk: Buffer) => {
    const dropped = Math.min(skip, chunk.length);
    skip -= dropped;
    if (chunk.length > dropped) received.push(chunk.subarray(dropped));
  });
  return { clock, connection, remote, received, sent, closeReasons };
}

/** Waits (for I/O, not for time) until the remote end has received `length` bytes after the handshake. */
async function bytesAtRemote(pair: Pair, length: number): Promise<Buffer> {
  while (Buffer.concat(pair.received).length < length) await once(pair.remote, 'data');
  return Buffer.concat(pair.received);
}

describe('PeerConnection: idle peers and keep-alives', () => {
  test('a peer silent for 3 minutes is dropped, with a reason that says so', async () => {
    const pair = await connectedPair();
    pair.clock.advance(179_999);
    assert.equal(pair.connection.closed, false, 'still there just before 3 minutes');
    pair.clock.advance(1);
    assert.equal(pair.connection.closed, true, 'dropped at 3 minutes');
    assert.deepEqual(pair.closeReasons, ['peer silent for 3 minutes']);
    assert.equal(pair.clock.pendingTimers, 0, 'no timer left behind');
  });

  test('anything from the peer restarts its 3 minutes', async () => {
    const pair = await connectedPair();
    pair.clock.advance(100_000);
    const arrived = once(pair.connection, 'message');
    pair.remote.write(KEEP_ALIVE);
    assert.deepEqual(await arrived, [{ type: 'keep-alive' }]);
    pair.clock.advance(179_999);
    assert.equal(pair.connection.closed, false, '3 minutes from the keep-alive, not from the connection');
    pair.clock.advance(1);
    assert.deepEqual(pair.closeReasons, ['peer silent for 3 minutes']);
  });

  test('after 90 s without sending anything we send a keep-alive', async () => {
    const pair = await connectedPair();
    pair.clock.advance(89_999);
    assert.deepEqual(pair.sent, []);
    pair.clock.advance(1);
    assert.deepEqual(pair.sent, ['keep-alive']);
    assert.deepEqual(await bytesAtRemote(pair, 4), KEEP_ALIVE, 'four zero bytes on the wire');
    pair.clock.advance(90_000 - 1);
    assert.deepEqual(pair.sent, ['keep-alive'], 'the next one 90 s after the first');
    assert.equal(pair.connection.closed, false);
  });

  test('a message we send puts the keep-alive off', async () => {
    const pair = await connectedPair();
    pair.clock.advance(60_000);
    pair.connection.send({ type: 'interested' });
    pair.clock.advance(89_999);
    assert.deepEqual(pair.sent, ['interested'], 'no keep-alive 90 s after the connection: we were not quiet');
    pair.clock.advance(1);
    assert.deepEqual(pair.sent, ['interested', 'keep-alive'], '90 s after our last message');
    const expected = Buffer.concat([encodeMessage({ type: 'interested' }), KEEP_ALIVE]);
    assert.deepEqual(await bytesAtRemote(pair, expected.length), expected);
  });

  test('the intervals are options', async () => {
    const pair = await connectedPair({ idleTimeoutMs: 20_000, keepAliveIntervalMs: 5_000 });
    pair.clock.advance(5_000);
    assert.deepEqual(pair.sent, ['keep-alive']);
    pair.clock.advance(15_000);
    assert.deepEqual(pair.closeReasons, ['peer silent for 20 s']);
  });

  test('over uTP, 30 s of silence both ways brings a keep-alive (a vanished uTP peer is found by it)', async () => {
    const pair = await connectedPair({ transport: 'utp' });
    pair.clock.advance(29_999);
    assert.deepEqual(pair.sent, []);
    pair.clock.advance(1);
    assert.deepEqual(pair.sent, ['keep-alive'], 'after 30 s of mutual silence');
    assert.deepEqual(await bytesAtRemote(pair, 4), KEEP_ALIVE);
    // The peer answers; the next probe comes after the next 30 s of silence both ways.
    const arrived = once(pair.connection, 'message');
    pair.remote.write(KEEP_ALIVE);
    await arrived;
    pair.clock.advance(29_999);
    assert.deepEqual(pair.sent, ['keep-alive']);
    pair.clock.advance(1);
    assert.deepEqual(pair.sent, ['keep-alive', 'keep-alive']);
    // Over TCP the 90 s rule alone (the test above): a killed TCP peer is reset by its kernel.
    const tcp = await connectedPair({ transport: 'tcp' });
    tcp.clock.advance(60_000);
    assert.deepEqual(tcp.sent, []);
  });

  test('a dialled peer that never answers our handshake is dropped after 10 s', async () => {
    const pair = await connectedPair({}, false);
    pair.clock.advance(9_999);
    assert.equal(pair.connection.closed, false);
    pair.clock.advance(1);
    assert.deepEqual(pair.closeReasons, ['no handshake from peer']);
  });

  test('closing the connection stops its timers', async () => {
    const pair = await connectedPair();
    assert.ok(pair.clock.pendingTimers > 0);
    pair.connection.close('done');
    assert.equal(pair.clock.pendingTimers, 0);
    pair.clock.advance(600_000);
    assert.deepEqual(pair.closeReasons, ['done']);
    assert.deepEqual(pair.sent, []);
  });
});
