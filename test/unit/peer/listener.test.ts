/**
 * PeerListener's pending-handshake table in place: evicted connections are really closed, a
 * newcomer from its own address gets in past a table full of silent connections, and the
 * handshake deadline comes from the injected clock and shrinks as the table fills. Sockets are
 * real (loopback); time is a FakeClock: the tests wait only for socket events.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PeerAddress } from '../../../src/address.js';
import { type ListenerOptions, PeerListener } from '../../../src/peer/listener.js';
import { encodeHandshake, generatePeerId } from '../../../src/wire/index.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

async function startListener(
  options: ListenerOptions,
): Promise<{ listener: PeerListener; clock: FakeClock }> {
  const clock = new FakeClock();
  const listener = new PeerListener({ host: '127.0.0.1', port: 0, clock, ...options });
  await listener.listen();
  cleanup.push(() => listener.close());
  return { listener, clock };
}

/** A connection from `localAddress` that says nothing; resolves once connected. */
async function silent(listener: PeerListener, localAddress: string): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port: listener.port, localAddress });
  socket.on('error', () => undefined);
  cleanup.push(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Until the listener holds `count` pending connections (it accepts on its own turn of the loop). */
async function pendingReaches(listener: PeerListener, count: number): Promise<void> {
  for (let i = 0; listener.pendingHandshakes !== count; i++) {
    assert.ok(i < 400, `pending handshakes: ${listener.pendingHandshakes}, expected ${count}`);
    await sleep(5);
  }
}

/** `promise`, or an assertion failure after `ms` of real time (a close that is due comes at once). */
async function within<T>(promise: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new assert.AssertionError({ message: `${what}: not within ${ms} ms` })),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('PeerListener pending handshakes', { timeout: 20_000 }, () => {
  test('full of silent connections from two addresses: a peer from a third gets in and is handed on', async () => {
    const { listener } = await startListener({ maxPendingHandshakes: 4, maxPendingHandshakesPerHost: 2 });
    const dropped: [PeerAddress, string][] = [];
    listener.on('pending-dropped', (address, reason) => dropped.push([address, reason]));
    const a1 = await silent(listener, '127.9.0.1');
    const a1Port = a1.localPort;
    await pendingReaches(listener, 1);
    await silent(listener, '127.9.0.2');
    await silent(listener, '127.9.0.1');
    await silent(listener, '127.9.0.2');
    await pendingReaches(listener, 4);

    const handshakes: PeerAddress[] = [];
    listener.on('handshake', (socket, _handshake, _leftover, address) => {
      handshakes.push(address);
      socket.destroy();
    });
    const a1Closed = once(a1, 'close');
    const honest = await silent(listener, '127.9.0.3');
    honest.write(
      encodeHandshake({
        reserved: new Uint8Array(8),
        infoHash: new Uint8Array(20).fill(7),
        peerId: generatePeerId(),
      }),
    );
    await within(once(honest, 'close'), 'the newcomer closed'); // closed by our handshake listener, or refused
    await within(a1Closed, 'the oldest connection of the busiest address closed');
    assert.deepEqual(
      handshakes.map((a) => a.host),
      ['127.9.0.3'],
    );
    assert.deepEqual(dropped, [[{ host: '127.9.0.1', port: a1Port }, 'evicted']]);
    assert.ok(listener.peakPendingHandshakes <= 4);
  });

  test('one address beyond its limit is refused at once, the table keeps its slots', async () => {
    const { listener } = await startListener({ maxPendingHandshakes: 8, maxPendingHandshakesPerHost: 2 });
    await silent(listener, '127.9.0.1');
    await silent(listener, '127.9.0.1');
    await pendingReaches(listener, 2);
    const third = await silent(listener, '127.9.0.1');
    await within(once(third, 'close'), 'the third connection from one address closed');
    assert.equal(listener.pendingHandshakes, 2);
  });

  test('the handshake deadline follows the injected clock and shrinks as the table fills', async () => {
    // 4 slots: 10 s up to half full, then 6 s for the third and 2 s for the fourth.
    const { listener, clock } = await startListener({
      maxPendingHandshakes: 4,
      handshakeTimeoutMs: 10_000,
      minHandshakeTimeoutMs: 2000,
    });
    const sockets: Socket[] = [];
    for (let i = 1; i <= 4; i++) {
      sockets.push(await silent(listener, `127.9.0.${i}`));
      await pendingReaches(listener, i);
    }
    const closed = sockets.map((s) => once(s, 'close'));
    clock.advance(2000);
    await within(closed[3]!, 'the fourth connection closed after 2 s');
    await pendingReaches(listener, 3);
    clock.advance(4000);
    await within(closed[2]!, 'the third connection closed after 6 s');
    await pendingReaches(listener, 2);
    clock.advance(3999);
    await sleep(50); // a close would be seen by now; none is due
    assert.equal(listener.pendingHandshakes, 2);
    clock.advance(1);
    await within(Promise.all([closed[0], closed[1]]), 'the first two closed after 10 s');
    await pendingReaches(listener, 0);
  });
});
