import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, describe, test } from 'node:test';
import { isLodestoneError, TrackerError } from '../../../src/errors.js';
import type { AnnounceRequest } from '../../../src/tracker/types.js';
import { UDP_PROTOCOL_ID, UdpTracker } from '../../../src/tracker/udp-tracker.js';

const request: AnnounceRequest = {
  infoHash: Buffer.alloc(20, 7),
  peerId: Buffer.from('-LS0001-bbbbbbbbbbbb'),
  port: 6001,
  uploaded: 1,
  downloaded: 2,
  left: 3,
  key: 99,
};

const CONNECTION_ID = 0x0102030405060708n;
/** Keeps a failing test from waiting out BEP 15's full hour of retransmissions. */
const bounded = { baseTimeoutMs: 1000, maxRetries: 1 };

interface Received {
  action: number;
  transactionId: number;
  packet: Buffer;
}

/** What the fake tracker does with one request: answer (default), drop, or a custom reply. */
type Behaviour = (
  received: Received,
  reply: (packet: Buffer) => void,
  remote: dgram.RemoteInfo,
) => 'default' | 'handled';

interface FakeTracker {
  url: string;
  received: Received[];
  socket: dgram.Socket;
  behaviour: Behaviour;
  close(): Promise<void>;
}

const trackers: FakeTracker[] = [];
after(async () => {
  await Promise.all(trackers.map((tracker) => tracker.close()));
});

function connectAnswer(transactionId: number): Buffer {
  const packet = Buffer.alloc(16);
  packet.writeUInt32BE(0, 0);
  packet.writeUInt32BE(transactionId, 4);
  packet.writeBigUInt64BE(CONNECTION_ID, 8);
  return packet;
}

function announceAnswer(transactionId: number, peers: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32BE(1, 0);
  head.writeUInt32BE(transactionId, 4);
  head.writeUInt32BE(1200, 8);
  head.writeUInt32BE(2, 12); // leechers
  head.writeUInt32BE(1, 16); // seeders
  return Buffer.concat([head, peers]);
}

function errorAnswer(transactionId: number, message: string): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(3, 0);
  head.writeUInt32BE(transactionId, 4);
  return Buffer.concat([head, Buffer.from(message)]);
}

async function fakeTracker(host = '127.0.0.1', peers?: Buffer): Promise<FakeTracker> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const tracker: FakeTracker = {
    url: '',
    received: [],
    socket,
    behaviour: () => 'default',
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  const defaultPeers = peers ?? Buffer.from([127, 0, 0, 9, 0x17, 0x70]);
  socket.on('message', (packet, remote) => {
    const received = { action: packet.readUInt32BE(8), transactionId: packet.readUInt32BE(12), packet };
    tracker.received.push(received);
    const reply = (answer: Buffer) => socket.send(answer, remote.port, remote.address);
    if (tracker.behaviour(received, reply, remote) === 'handled') return;
    if (received.action === 0 && packet.readBigUInt64BE(0) === UDP_PROTOCOL_ID) {
      reply(connectAnswer(received.transactionId));
    } else if (received.action === 1 && packet.readBigUInt64BE(0) === CONNECTION_ID) {
      reply(announceAnswer(received.transactionId, defaultPeers));
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const port = socket.address().port;
  tracker.url = `udp://${host.includes(':') ? `[${host}]` : host}:${port}/announce`;
  trackers.push(tracker);
  return tracker;
}

const count = (tracker: FakeTracker, action: number) =>
  tracker.received.filter((r) => r.action === action).length;

describe('UdpTracker', () => {
  test('connects, announces and parses the answer', async () => {
    const server = await fakeTracker();
    const client = new UdpTracker(server.url, bounded);
    try {
      const response = await client.announce({ ...request, event: 'started' });
      assert.deepEqual(response, {
        interval: 1200,
        peers: [{ host: '127.0.0.9', port: 6000 }],
        seeders: 1,
        leechers: 2,
      });
      const announce = server.received.find((r) => r.action === 1)!.packet;
      assert.equal(announce.length, 98);
      assert.equal(announce.readUInt32BE(80), 2); // started
      assert.equal(announce.readUInt16BE(96), 6001);
    } finally {
      client.close();
    }
  });

  test('reuses the connection id, and fetches a new one once it expired', async () => {
    const server = await fakeTracker();
    const reusing = new UdpTracker(server.url, bounded);
    await reusing.announce(request);
    await reusing.announce(request);
    reusing.close();
    assert.equal(count(server, 0), 1);
    assert.equal(count(server, 1), 2);

    const expiring = new UdpTracker(server.url, { ...bounded, connectionIdTtlMs: 0 });
    await expiring.announce(request);
    await expiring.announce(request);
    expiring.close();
    assert.equal(count(server, 0), 3);
  });

  test('retransmits after the timeout, doubling it', async () => {
    const server = await fakeTracker();
    let dropped = 0;
    server.behaviour = (received) => (received.action === 1 && dropped++ < 2 ? 'handled' : 'default');
    const client = new UdpTracker(server.url, { baseTimeoutMs: 40, maxRetries: 3 });
    try {
      const started = Date.now();
      const response = await client.announce(request);
      assert.equal(response.peers.length, 1);
      assert.equal(count(server, 1), 3);
      assert.ok(Date.now() - started >= 40 + 80 - 5, 'waited 40 ms then 80 ms');
    } finally {
      client.close();
    }
  });

  test('gives up after maxRetries retransmissions', async () => {
    const server = await fakeTracker();
    server.behaviour = () => 'handled';
    const client = new UdpTracker(server.url, { baseTimeoutMs: 20, maxRetries: 2 });
    await assert.rejects(client.announce(request), (error: unknown) => {
      assert.ok(error instanceof TrackerError);
      assert.match(error.message, /did not answer \(3 tries\)/);
      return true;
    });
    assert.equal(count(server, 0), 3);
    client.close();
  });

  test('an error action is a TrackerError with its message', async () => {
    const server = await fakeTracker();
    server.behaviour = (received, reply) => {
      if (received.action !== 1) return 'default';
      reply(errorAnswer(received.transactionId, 'info hash not whitelisted'));
      return 'handled';
    };
    const client = new UdpTracker(server.url, bounded);
    await assert.rejects(client.announce(request), /tracker failure: info hash not whitelisted/);
    client.close();
  });

  test('ignores answers with a wrong transaction id or from another address', async () => {
    const server = await fakeTracker();
    const intruder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => intruder.bind(0, '127.0.0.1', resolve));
    server.behaviour = (received, reply, remote) => {
      if (received.action !== 1) return 'default';
      reply(errorAnswer((received.transactionId ^ 1) >>> 0, 'wrong transaction'));
      // Same transaction id, but sent from a socket that is not the tracker.
      intruder.send(errorAnswer(received.transactionId, 'spoofed'), remote.port, remote.address);
      setTimeout(() => reply(announceAnswer(received.transactionId, Buffer.alloc(0))), 30);
      return 'handled';
    };
    const client = new UdpTracker(server.url, bounded);
    try {
      const response = await client.announce(request);
      assert.deepEqual(response.peers, []);
    } finally {
      client.close();
      intruder.close();
    }
  });

  test('an answer with the wrong action is a TrackerError', async () => {
    const server = await fakeTracker();
    server.behaviour = (received, reply) => {
      reply(announceAnswer(received.transactionId, Buffer.alloc(0)));
      return 'handled';
    };
    const client = new UdpTracker(server.url, bounded);
    await assert.rejects(client.announce(request), /answered announce to a connect request/);
    client.close();
  });

  test('close() and the caller signal abort a pending announce', async () => {
    const server = await fakeTracker();
    server.behaviour = () => 'handled';
    const isAbort = (error: unknown) => isLodestoneError(error) && error.code === 'LODESTONE_ERR_ABORTED';
    const client = new UdpTracker(server.url, bounded);
    const controller = new AbortController();
    const byCaller = client.announce({ ...request, signal: controller.signal });
    const byClose = client.announce(request);
    setTimeout(() => controller.abort(), 10);
    await assert.rejects(byCaller, isAbort);
    client.close();
    await assert.rejects(byClose, isAbort);
    await assert.rejects(client.announce(request), isAbort);
  });

  test('works over IPv6 with 18-byte peers', async (t) => {
    const probe = dgram.createSocket('udp6');
    const hasIpv6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.bind(0, '::1', () => resolve(true));
    });
    probe.close();
    if (!hasIpv6) {
      t.skip('no IPv6 loopback');
      return;
    }
    const peer = Buffer.alloc(18);
    peer[15] = 1;
    peer.writeUInt16BE(6881, 16);
    const server = await fakeTracker('::1', peer);
    const client = new UdpTracker(server.url, bounded);
    try {
      const response = await client.announce(request);
      assert.deepEqual(response.peers, [{ host: '::1', port: 6881 }]);
    } finally {
      client.close();
    }
  });
});
