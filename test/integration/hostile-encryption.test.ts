/**
 * Hostile peers against the MSE/PE handshake, both sides, on loopback. Deadlines run on a
 * FakeClock that never advances, so every drop seen here is for the stated reason, at once:
 * - a peer that sends a DH key and then endless padding (no HASH('req1', S)) is dropped once
 *   532 bytes past the key have come, not at the handshake deadline;
 * - a peer asking for a torrent we do not have, or offering no method we accept;
 * - a plaintext handshake under `require`, an encrypted one under `disable`;
 * - dialling out, a listener that answers our key with its key and endless garbage.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import type { PeerAddress } from '../../src/address.js';
import { MseInitiator, MseKeyPair, req2Hash } from '../../src/net/mse/index.js';
import type { EncryptionPolicy } from '../../src/net/mse/policy.js';
import { mseConnect } from '../../src/net/mse-connect.js';
import { PeerListener } from '../../src/peer/listener.js';
import { encodeHandshake, generatePeerId } from '../../src/wire/index.js';
import { FakeClock } from '../helpers/fake-clock.js';

const INFO_HASH = Buffer.alloc(20, 0x42);
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

async function listener(encryption: EncryptionPolicy = 'prefer') {
  const l = new PeerListener({
    host: '127.0.0.1',
    port: 0,
    clock: new FakeClock(),
    encryption,
    lookupSkey: (req2) => (req2Hash(INFO_HASH).equals(req2) ? INFO_HASH : undefined),
  });
  await l.listen();
  cleanup.push(() => l.close());
  const failures: [PeerAddress, string][] = [];
  l.on('handshake-failed', (address, reason) => failures.push([address, reason]));
  return { l, failures };
}

async function dial(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  cleanup.push(() => socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** Writes `chunk` every few ms until the socket closes; resolves with the bytes written by then. */
async function floodUntilClosed(socket: Socket, chunk: Buffer, limit: number): Promise<number> {
  let written = 0;
  let open = true;
  // Not events.once: it rejects on the EPIPE our writes meet once the listener has closed.
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      open = false;
      resolve();
    }),
  );
  while (open && written < limit) {
    socket.write(chunk);
    written += chunk.length;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  assert.equal(open, false, `still open after ${written} bytes`);
  return written;
}

describe('hostile MSE peers', { timeout: 20_000 }, () => {
  test('a DH key then endless padding is dropped once 532 bytes past the key have come', async () => {
    const { l, failures } = await listener();
    const socket = await dial(l.port);
    const key = new MseKeyPair(randomBytes(20)).publicKey;
    socket.write(key);
    const written = await floodUntilClosed(socket, Buffer.alloc(50, 0xee), 100_000);
    // The exact bound (532) is the unit test's; here what we had written when the close reached us.
    assert.ok(written < 5000, `dropped after ${written} bytes of padding, not at the deadline`);
    assert.equal(failures.length, 1);
    assert.match(failures[0]![1], /no HASH\(req1, S\) within 512 bytes of padding/);
    assert.equal(l.pendingHandshakes, 0);
  });

  test('garbage that is no DH key at all (all zeros) is dropped as a bad key', async () => {
    const { l, failures } = await listener();
    const socket = await dial(l.port);
    socket.write(Buffer.alloc(96));
    await once(socket, 'close');
    assert.match(failures[0]![1], /degenerate public key/);
  });

  test('a well-formed handshake for a torrent we do not have is dropped as unknown', async () => {
    const { l, failures } = await listener();
    const socket = await dial(l.port);
    const initiator = new MseInitiator({
      infoHash: Buffer.alloc(20, 1),
      provide: ['rc4'],
      random: randomBytes,
    });
    socket.write(initiator.start());
    socket.on('data', (chunk: Buffer) => {
      try {
        const step = initiator.push(chunk);
        if (step.send) socket.write(step.send);
      } catch {
        socket.destroy();
      }
    });
    await once(socket, 'close');
    assert.match(failures[0]![1], /a torrent we do not have/);
  });

  test('require refuses a plaintext handshake and disable refuses an encrypted one, both at once', async () => {
    const strict = await listener('require');
    const plain = await dial(strict.l.port);
    plain.write(
      encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId: generatePeerId() }),
    );
    await once(plain, 'close');
    assert.match(strict.failures[0]![1], /plaintext handshake refused/);

    const off = await listener('disable');
    const encrypted = await dial(off.l.port);
    encrypted.write(new MseKeyPair(randomBytes(20)).publicKey);
    await once(encrypted, 'close');
    assert.match(off.failures[0]![1], /encrypted handshake refused/);
  });

  test('require: a peer that offers only plaintext inside MSE is dropped for no common method', async () => {
    const { l, failures } = await listener('require');
    const socket = await dial(l.port);
    const initiator = new MseInitiator({ infoHash: INFO_HASH, provide: ['plaintext'], random: randomBytes });
    socket.write(initiator.start());
    socket.on('data', (chunk: Buffer) => {
      try {
        const step = initiator.push(chunk);
        if (step.send) socket.write(step.send);
      } catch {
        socket.destroy();
      }
    });
    await once(socket, 'close');
    assert.match(failures[0]![1], /none of which we accept/);
  });

  test('an honest encrypted peer is handed on with its handshake from the initial payload', async () => {
    const { l, failures } = await listener();
    const got = once(l, 'handshake');
    const socket = await dial(l.port);
    const peerId = generatePeerId();
    const connection = mseConnect(socket, undefined, {
      infoHash: INFO_HASH,
      provide: ['rc4'],
      initialPayload: encodeHandshake({ reserved: new Uint8Array(8), infoHash: INFO_HASH, peerId }),
      clock: new FakeClock(),
    });
    const [stream, handshake, , , encryption] = await got;
    assert.equal(encryption, 'rc4');
    assert.deepEqual(Buffer.from(handshake.peerId), peerId);
    assert.equal((await connection).encryption, 'rc4');
    stream.destroy();
    assert.deepEqual(failures, []);
  });

  test('dialling out: a listener that answers our key with its key and endless garbage fails the handshake', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => {
        socket.write(new MseKeyPair(randomBytes(20)).publicKey);
        const timer = setInterval(() => socket.write(Buffer.alloc(64, 0x99)), 2);
        socket.on('close', () => clearInterval(timer));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(() => server.close());
    const address = server.address();
    const socket = await dial(typeof address === 'object' && address ? address.port : 0);
    await assert.rejects(
      mseConnect(socket, undefined, { infoHash: INFO_HASH, provide: ['rc4'], clock: new FakeClock() }),
      (error: Error & { code?: string; reason?: string }) =>
        error.code === 'LODESTONE_ERR_MSE' && error.reason === 'sync-not-found',
    );
    assert.ok(socket.destroyed);
  });
});
