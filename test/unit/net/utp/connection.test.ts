import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { seededRandom, UtpNetwork } from '../../../helpers/utp-network.js';

function randomBytes(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (random() * 256) | 0;
  return out;
}

/** Writes `data` from side a as fast as the connection takes it, then ends. */
function pump(net: UtpNetwork, data: Buffer, chunk = 16 * 1024): void {
  let offset = 0;
  const feed = (): void => {
    const connection = net.a.connection!;
    while (offset < data.length) {
      const piece = data.subarray(offset, offset + chunk);
      offset += piece.length;
      if (!connection.write(piece)) break;
    }
    if (offset >= data.length) connection.end();
    connection.flush(net.now);
  };
  net.a.onDrain = () => {
    if (offset < data.length) queueFeed = true;
  };
  let queueFeed = false;
  const originalRun = net.run.bind(net);
  net.run = (micros: number, tick?: number) => {
    originalRun(micros, tick);
    if (queueFeed) {
      queueFeed = false;
      feed();
    }
  };
  feed();
}

/** The reader consumes everything at once (the backlog stays 0). */
function drainReader(net: UtpNetwork): void {
  const endpoint = net.b;
  const original = endpoint.data.bind(endpoint);
  endpoint.data = (bytes) => {
    original(bytes);
    endpoint.connection?.setReadBacklog(0, net.now);
  };
}

function sha1(parts: Buffer[] | Buffer): string {
  const hash = createHash('sha1');
  for (const part of Array.isArray(parts) ? parts : [parts]) hash.update(part);
  return hash.digest('hex');
}

describe('uTP connection (pure, virtual time)', { timeout: 60_000 }, () => {
  test('SYN / STATE sets up both sides with ids ±1, and data flows both ways', () => {
    const net = new UtpNetwork();
    net.connect();
    net.run(10_000);
    assert.equal(net.a.isConnected, true);
    const a = net.a.connection!;
    const b = net.b.connection!;
    assert.equal(a.recvId, 1000);
    assert.equal(a.sendId, 1001);
    assert.equal(b.sendId, 1000);
    assert.equal(b.recvId, 1001);
    a.write(Buffer.from('hello from a'));
    a.flush(net.now);
    b.write(Buffer.from('hello from b'));
    b.flush(net.now);
    net.run(10_000);
    assert.equal(Buffer.concat(net.b.received).toString(), 'hello from a');
    assert.equal(Buffer.concat(net.a.received).toString(), 'hello from b');
  });

  test('FIN both ways closes both sides cleanly', () => {
    const net = new UtpNetwork();
    net.connect();
    net.run(10_000);
    net.a.connection!.write(Buffer.from('last words'));
    net.a.connection!.end();
    net.a.connection!.flush(net.now);
    net.run(10_000);
    assert.equal(net.b.ended, true);
    assert.equal(Buffer.concat(net.b.received).toString(), 'last words');
    net.b.connection!.end();
    net.b.connection!.flush(net.now);
    net.run(10_000);
    assert.equal(net.a.ended, true);
    assert.equal(net.a.closedWith, undefined);
    assert.equal(net.b.closedWith, undefined);
  });

  test('1 MiB byte-exact on a clean link, sequence numbers wrapping past 65535', () => {
    const net = new UtpNetwork();
    net.connect(65_000);
    drainReader(net);
    net.run(10_000);
    const data = randomBytes(1024 * 1024, 7);
    pump(net, data);
    // 1 MiB is ~750 packets from 65000: the sequence numbers wrap mid-transfer.
    assert.ok(net.runUntil(() => net.b.ended, 60_000_000));
    assert.equal(sha1(net.b.received), sha1(data));
  });

  test('4 MiB byte-exact through 5% loss, 5% duplication and reordering (seeded)', () => {
    const net = new UtpNetwork({ loss: 0.05, duplicate: 0.05, reorder: 0.1, delayMicros: 2000 }, 42);
    net.connect(64_000);
    drainReader(net);
    net.run(10_000);
    const data = randomBytes(4 * 1024 * 1024, 9);
    pump(net, data);
    assert.ok(
      net.runUntil(() => net.b.ended, 600_000_000),
      `received ${net.b.receivedBytes} bytes`,
    );
    assert.equal(net.b.receivedBytes, data.length);
    assert.equal(sha1(net.b.received), sha1(data));
  });
});
