import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { UtpStream } from '../../src/net/utp/utp-stream.js';
import { utpEndpoint } from '../helpers/utp-endpoint.js';

const SIZE = 64 * 1024 * 1024;

describe('uTP between two Lodestone endpoints on loopback', { timeout: 90_000 }, () => {
  test('64 MiB byte-exact, then a clean close on both sides', async () => {
    const server = await utpEndpoint('127.0.0.41');
    const client = await utpEndpoint('127.0.0.42');
    try {
      const incoming = new Promise<UtpStream>((resolve) => server.utp.once('connection', resolve));
      const stream = await client.utp.connect('127.0.0.41', server.port);
      assert.equal(stream.remoteAddress, '127.0.0.41');
      stream.resume(); // the server sends nothing, but its end must be read for 'close'
      const chunk = randomBytes(1024 * 1024);
      const sent = createHash('sha256');
      const writing = (async () => {
        for (let written = 0; written < SIZE; written += chunk.length) {
          chunk.writeUInt32BE(written, 0);
          sent.update(chunk);
          if (!stream.write(Buffer.from(chunk))) await new Promise((r) => stream.once('drain', r));
        }
        stream.end();
      })();
      const accepted = await incoming;
      assert.equal(accepted.remoteAddress, '127.0.0.42');
      const received = createHash('sha256');
      let bytes = 0;
      for await (const data of accepted) {
        received.update(data as Buffer);
        bytes += (data as Buffer).length;
      }
      await writing;
      assert.equal(bytes, SIZE);
      assert.equal(received.digest('hex'), sent.digest('hex'));
      // The reader's side ended too (allowHalfOpen false): both connections close and leave the tables.
      await new Promise<void>((resolve) =>
        stream.closed ? resolve() : stream.once('close', () => resolve()),
      );
      for (let i = 0; i < 100 && (client.utp.size > 0 || server.utp.size > 0); i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(client.utp.size, 0);
      assert.equal(server.utp.size, 0);
    } finally {
      client.close();
      server.close();
    }
  });

  test('a reader that does not read holds the sender at the receive budget; reading resumes the flow', async () => {
    const server = await utpEndpoint('127.0.0.46', { connection: { receiveBufferBytes: 256 * 1024 } });
    const client = await utpEndpoint('127.0.0.47');
    try {
      const incoming = new Promise<UtpStream>((resolve) => server.utp.once('connection', resolve));
      const stream = await client.utp.connect('127.0.0.46', server.port);
      stream.resume();
      const data = randomBytes(8 * 1024 * 1024);
      let drains = 0;
      let offset = 0;
      const writing = (async () => {
        for (; offset < data.length; offset += 64 * 1024) {
          if (!stream.write(data.subarray(offset, offset + 64 * 1024))) {
            drains++;
            await new Promise((r) => stream.once('drain', r));
          }
        }
        stream.end();
      })();
      const accepted = await incoming;
      accepted.pause();
      // Nobody reads for a while: what piles up on the receiving side stays near its 256 KiB budget,
      // and the writer is held back (its write callbacks wait) instead of buffering 8 MiB.
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(accepted.readableLength <= 256 * 1024 + 1400, `reader holds ${accepted.readableLength}`);
      assert.ok(offset < 4 * 1024 * 1024, `the writer got ${offset} bytes out`);
      assert.ok(drains > 0);
      const hash = createHash('sha256');
      const reading = (async () => {
        for await (const chunk of accepted) hash.update(chunk as Buffer);
      })();
      // Reading again must reopen the window: a stall fails here, not at the suite's timeout.
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the transfer stalled after the reader resumed')), 20_000);
      });
      try {
        await Promise.race([Promise.all([reading, writing]), stalled]);
      } finally {
        clearTimeout(timer);
      }
      assert.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'));
    } finally {
      client.close();
      server.close();
    }
  });

  test('packets with spoofed connection ids are dropped, answered by a bounded number of resets', async () => {
    const { encodeUtpPacket, decodeUtpPacket } = await import('../../src/net/utp/packet.js');
    const server = await utpEndpoint('127.0.0.48', { tickMs: 1000 });
    const client = await utpEndpoint('127.0.0.49');
    const spoofer = await utpEndpoint('127.0.0.49');
    spoofer.udp.removeRoute(spoofer.utp.route);
    let resets = 0;
    spoofer.udp.addRoute({
      name: 'count',
      accepts: () => true,
      receive: (d) => {
        const r = decodeUtpPacket(d);
        if (r.ok && r.packet.type === 'reset') resets++;
      },
    });
    try {
      const incoming = new Promise<UtpStream>((resolve) => server.utp.once('connection', resolve));
      const stream = await client.utp.connect('127.0.0.48', server.port);
      stream.write('real');
      const accepted = await incoming;
      const before = server.utp.dropped;
      for (let id = 0; id < 200; id++) {
        const packet = {
          timestamp: 0,
          timestampDiff: 0,
          windowSize: 65536,
          seq: id,
          ack: 0,
          payload: Buffer.from('x'),
        };
        spoofer.udp.send(
          encodeUtpPacket({ type: 'data', connectionId: 3 * id, ...packet }),
          server.port,
          '127.0.0.48',
        );
      }
      for (let i = 0; i < 100 && server.utp.dropped < before + 200; i++)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.utp.dropped, before + 200);
      assert.ok(resets <= 64, `${resets} resets for 200 spoofed packets within one tick`);
      assert.equal(server.utp.size, 1);
      stream.write(' data');
      stream.end();
      const chunks: Buffer[] = [];
      for await (const chunk of accepted) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'real data');
    } finally {
      client.close();
      spoofer.close();
      server.close();
    }
  });

  test('dialling a port where nobody speaks uTP fails with a typed error', async () => {
    const client = await utpEndpoint('127.0.0.42', { connection: { initialTimeoutMs: 100, synRetries: 1 } });
    const silent = await utpEndpoint('127.0.0.43');
    silent.udp.removeRoute(silent.utp.route);
    try {
      await assert.rejects(client.utp.connect('127.0.0.43', silent.port), {
        code: 'LODESTONE_ERR_UTP',
        reason: 'connect-timeout',
      });
      assert.equal(silent.udp.unrouted, 2);
    } finally {
      client.close();
      silent.close();
    }
  });

  test('a SYN flood fills at most maxHalfOpen slots, which expire; a real client still gets in', async () => {
    let now = 0;
    const server = await utpEndpoint('127.0.0.44', { maxHalfOpen: 8, halfOpenTimeoutMs: 1000, tickMs: 20 });
    // A flooder does not answer the ST_STATEs its SYNs bring (a Lodestone would reset them).
    const flooder = await utpEndpoint('127.0.0.45', { maxResetsPerTick: 0 });
    try {
      const { encodeUtpPacket } = await import('../../src/net/utp/packet.js');
      for (let id = 0; id < 200; id++) {
        flooder.udp.send(
          encodeUtpPacket({
            type: 'syn',
            connectionId: id * 2,
            timestamp: now++,
            timestampDiff: 0,
            windowSize: 65536,
            seq: 1,
            ack: 0,
            payload: new Uint8Array(0),
          }),
          server.port,
          '127.0.0.44',
        );
      }
      for (let i = 0; i < 50 && server.utp.dropped < 192; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.utp.halfOpen, 8);
      assert.equal(server.utp.size, 8);
      assert.equal(server.utp.dropped, 192);
      // The half-open slots expire; then a real client connects.
      for (let i = 0; i < 200 && server.utp.size > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(server.utp.size, 0);
      const incoming = new Promise<UtpStream>((resolve) => server.utp.once('connection', resolve));
      const stream = await flooder.utp.connect('127.0.0.44', server.port);
      stream.write('hello');
      const accepted = await incoming;
      const [first] = (await accepted.take(1).toArray()) as Buffer[];
      assert.equal(first!.toString(), 'hello');
      stream.destroy();
    } finally {
      flooder.close();
      server.close();
    }
  });
});
