/**
 * A uTP peer that vanishes (kill -9, unplugged) sends no FIN and no RST: the
 * connection must still end in bounded time, and a peer that answers with
 * ST_RESET must end it at once. The pure connection on the simulated link
 * with its virtual clock (µs).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UtpPacket } from '../../../../src/net/utp/packet.js';
import type { UtpError } from '../../../../src/net/utp/utp-error.js';
import { UtpNetwork } from '../../../helpers/utp-network.js';

const SECOND = 1_000_000;

function connected(options: ConstructorParameters<typeof UtpNetwork>[2] = {}): UtpNetwork {
  const net = new UtpNetwork({}, 1, options);
  net.connect();
  assert.ok(
    net.runUntil(() => net.a.isConnected && net.b.connection !== undefined, SECOND),
    'connected',
  );
  return net;
}

function reset(net: UtpNetwork, connectionId: number, ack: number): UtpPacket {
  return {
    type: 'reset',
    connectionId,
    timestamp: net.now >>> 0,
    timestampDiff: 0,
    windowSize: 0,
    seq: 7,
    ack,
    payload: new Uint8Array(0),
  };
}

describe('uTP: a peer that vanished', () => {
  test('data in flight and the peer silent: closed after the dead-peer timeout (20 s) however the backoff grew', () => {
    // A long minimum timeout and many retransmissions: the retransmission count alone
    // would keep the connection for minutes (5 + 10 + 20 + 40 + 60 + 60… s).
    const net = connected({ minTimeoutMs: 5000, initialTimeoutMs: 5000, maxTimeouts: 50 });
    net.run(SECOND);
    // b vanishes: nothing reaches it any more, it sends nothing.
    net.intercept = () => undefined;
    const sentAt = net.now;
    net.a.connection!.write(Buffer.alloc(10_000, 1));
    net.a.connection!.flush(net.now);
    net.run(19.9 * SECOND);
    assert.equal(net.a.closedWith, 'open', 'still open just before 20 s of silence');
    net.run(0.2 * SECOND);
    assert.notEqual(net.a.closedWith, 'open', 'closed at 20 s of silence with data in flight');
    const error = net.a.closedWith as unknown as UtpError | undefined;
    assert.equal(error?.reason, 'timeout');
    assert.match(error!.message, /silent with data in flight/);
    assert.ok(net.now - sentAt <= 20.2 * SECOND);
  });

  test('the 20 s count from the last packet heard, not from the first unacknowledged one', () => {
    // Keep-alives every 10 s (29 s by default): b's reach a, so a hears from it.
    const net = connected({
      minTimeoutMs: 5000,
      initialTimeoutMs: 5000,
      maxTimeouts: 50,
      keepAliveMs: 10_000,
    });
    // b hears nothing, but keeps talking: a's data is never acked.
    net.intercept = (to, _packet, datagram) => (to === 'b' ? undefined : datagram);
    net.a.connection!.write(Buffer.alloc(10_000, 1));
    net.a.connection!.flush(net.now);
    net.run(60 * SECOND);
    assert.equal(net.a.closedWith, 'open', 'b is alive (its keep-alives arrive): not dead');
  });

  test('an idle connection (nothing in flight) is not closed by the dead-peer timeout', () => {
    const net = connected();
    net.run(100 * SECOND);
    assert.equal(net.a.closedWith, 'open');
    assert.equal(net.b.closedWith, 'open');
  });

  test('ST_RESET closes at once with a clear reason; one acknowledging what we never sent is ignored', () => {
    const net = connected();
    net.run(SECOND);
    const a = net.a.connection!;
    // a's sequence numbers start at 500: a reset acking 0x7fff acks what a never sent.
    a.receive(reset(net, a.recvId, 0x7fff), net.now);
    assert.equal(net.a.closedWith, 'open', 'a reset acking far beyond what we sent is ignored');
    a.receive(reset(net, a.recvId, 0), net.now);
    // 0 is far behind our sequence: fine for a reset (it acks an old packet of ours).
    assert.notEqual(net.a.closedWith, 'open');
    const error = net.a.closedWith as unknown as UtpError | undefined;
    assert.equal(error?.reason, 'reset');
    assert.match(error!.message, /reset the uTP connection \(ST_RESET\)/);
    assert.equal(a.state, 'closed');
  });
});
