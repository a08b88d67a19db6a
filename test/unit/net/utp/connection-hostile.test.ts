import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeUtpPacket } from '../../../../src/net/utp/packet.js';
import { UtpError } from '../../../../src/net/utp/utp-error.js';
import { type Endpoint, UtpNetwork } from '../../../helpers/utp-network.js';

/** 'open', 'clean' or the UtpError reason. */
function outcome(endpoint: Endpoint): string {
  const closed: unknown = endpoint.closedWith;
  if (closed === 'open') return 'open';
  if (closed === undefined) return 'clean';
  assert.ok(closed instanceof UtpError);
  return closed.reason;
}

function connected(options = {}): UtpNetwork {
  const net = new UtpNetwork({}, 1, options);
  net.connect();
  net.run(10_000);
  assert.equal(net.a.isConnected, true);
  return net;
}

describe('uTP connection under hostile input', { timeout: 60_000 }, () => {
  test('no answer to the SYN: connect-timeout after the retries, not before', () => {
    const net = new UtpNetwork({ loss: 1 });
    net.connect();
    net.run(1_500_000);
    assert.equal(outcome(net.a), 'open');
    net.run(60_000_000);
    assert.equal(outcome(net.a), 'connect-timeout');
    assert.equal(net.a.sent, 4, 'the SYN and 3 retries');
  });

  test('a receive window of 0 forever: the writer fails with a timeout after zeroWindowTimeoutMs', () => {
    const net = connected({ zeroWindowTimeoutMs: 30_000 });
    net.intercept = (to, packet) =>
      to === 'a' ? encodeUtpPacket({ ...packet, windowSize: 0 }) : encodeUtpPacket(packet);
    net.b.connection!.flush(net.now); // b's next packet advertises 0
    net.b.connection!.write(Buffer.from('x'));
    net.b.connection!.flush(net.now);
    net.run(20_000);
    net.a.connection!.write(Buffer.alloc(100_000, 1));
    net.a.connection!.flush(net.now);
    net.run(25_000_000);
    assert.equal(outcome(net.a), 'open', 'still waiting before the deadline');
    assert.ok(net.b.receivedBytes < 100_000);
    net.run(10_000_000);
    assert.equal(outcome(net.a), 'timeout');
  });

  test('an ack of data never sent is ignored: nothing is retired', () => {
    const net = connected();
    const a = net.a.connection!;
    net.faults.loss = 1; // nothing a sends arrives
    a.write(Buffer.alloc(3000, 2));
    a.flush(net.now);
    const buffered = a.bufferedBytes;
    assert.ok(buffered > 0);
    a.receive(
      {
        type: 'state',
        connectionId: a.recvId,
        timestamp: 0,
        timestampDiff: 0,
        windowSize: 1 << 20,
        seq: 40_000,
        ack: 600,
        payload: new Uint8Array(0),
      },
      net.now,
    );
    assert.equal(a.bufferedBytes, buffered);
  });

  test('a giant selective-ACK bitmask (255 bytes, all set) is bounded by what is in flight', () => {
    const net = connected();
    const a = net.a.connection!;
    net.faults.loss = 1;
    a.write(Buffer.alloc(2800, 3));
    a.flush(net.now);
    // Acks nothing cumulatively (ack = SYN's seq) but claims packets far past what was sent.
    a.receive(
      {
        type: 'state',
        connectionId: a.recvId,
        timestamp: 0,
        timestampDiff: 0,
        windowSize: 1 << 20,
        seq: 40_000,
        ack: 500,
        sack: new Uint8Array(255).fill(0xff),
        payload: new Uint8Array(0),
      },
      net.now,
    );
    assert.equal(a.state, 'connected');
    assert.ok(a.bufferedBytes >= 0);
    // The first data packet (501) is not covered by the mask (it starts at 502); it stays in flight.
    assert.equal(a.bufferedBytes, 1400);
  });

  test('data far outside the receive window is dropped, not buffered', () => {
    const net = connected();
    const b = net.b.connection!;
    const before = b.receiveWindow;
    for (const seq of [501 + 30_000, 501 + 2000, 501 - 10]) {
      b.receive(
        {
          type: 'data',
          connectionId: b.recvId,
          timestamp: 0,
          timestampDiff: 0,
          windowSize: 1 << 20,
          seq,
          ack: 39_999,
          payload: new Uint8Array(1000),
        },
        net.now,
      );
    }
    assert.equal(b.receiveWindow, before);
    assert.equal(net.b.receivedBytes, 0);
  });

  test('a reader that stops reading shuts the window; the writer stalls, then resumes when it reads', () => {
    const net = connected({ receiveBufferBytes: 64 * 1024 });
    const a = net.a.connection!;
    const data = Buffer.alloc(512 * 1024, 5);
    a.write(data);
    a.end();
    a.flush(net.now);
    net.run(5_000_000);
    // The writer honours the shut window: about 64 KiB of packets plus a probe per timeout, no more.
    assert.ok(net.a.sent < 80, `a sent ${net.a.sent} datagrams`);
    assert.ok(net.b.receivedBytes <= 64 * 1024, `got ${net.b.receivedBytes}`);
    assert.ok(net.b.receivedBytes > 32 * 1024);
    assert.equal(net.b.connection!.receiveWindow < 1400, true);
    // Now the reader keeps up.
    const endpoint = net.b;
    const original = endpoint.data.bind(endpoint);
    endpoint.data = (bytes) => {
      original(bytes);
      endpoint.connection?.setReadBacklog(0, net.now);
    };
    net.b.connection!.setReadBacklog(0, net.now);
    assert.ok(net.runUntil(() => net.b.ended, 60_000_000));
    assert.equal(net.b.receivedBytes, data.length);
  });

  test('one lost data packet is resent on duplicate acks / SACK, long before the timeout', () => {
    const net = connected();
    let dropped = false;
    net.intercept = (to, packet, datagram) => {
      if (to === 'b' && packet.type === 'data' && packet.seq === 502 && !dropped) {
        dropped = true;
        return undefined;
      }
      return datagram;
    };
    const endpoint = net.b;
    const original = endpoint.data.bind(endpoint);
    endpoint.data = (bytes) => {
      original(bytes);
      endpoint.connection?.setReadBacklog(0, net.now);
    };
    const a = net.a.connection!;
    assert.ok(a.timeoutMs >= 500);
    a.write(Buffer.alloc(20 * 1400, 6));
    a.flush(net.now);
    net.run(100_000); // 100 ms ≪ the 500 ms minimum timeout
    assert.equal(dropped, true);
    assert.equal(net.b.receivedBytes, 20 * 1400);
  });

  test('ST_RESET closes with a reset error; destroy sends one', () => {
    const net = connected();
    net.a.connection!.destroy(net.now);
    assert.equal(outcome(net.a), 'destroyed');
    net.run(10_000);
    assert.equal(outcome(net.b), 'reset');
  });

  test('the retransmission timeout follows the RTT with a 500 ms floor, and doubles on a timeout', () => {
    const net = connected();
    const a = net.a.connection!;
    assert.equal(a.timeoutMs, 500);
    net.faults.loss = 1;
    a.write(Buffer.alloc(1400));
    a.flush(net.now);
    net.run(600_000);
    assert.equal(a.timeoutMs, 1000);
    assert.equal(a.congestionWindow, 2800);
  });
});
