/**
 * PeerDialer remembers per address that TCP won the uTP/TCP race, and dials that address over
 * TCP only from then on (a TCP-only peer such as aria2 costs the uTP delay once). TCP is a real
 * loopback server; uTP is a scripted dialler that is refused at once (the peer has no uTP), so
 * TCP starts without waiting for the delay; the address book's time is a number we move.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { afterEach, test } from 'node:test';
import type { UtpDialer } from '../../../src/peer/dial-transport.js';
import type { PeerConnection } from '../../../src/peer/peer-connection.js';
import { DialBudget } from '../../../src/policy/dial-budget.js';
import { AddressBook } from '../../../src/session/address-book.js';
import { PeerDialer } from '../../../src/session/peer-dialer.js';
import { generatePeerId } from '../../../src/wire/index.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

test('an address where TCP won is dialled over TCP only the next time', { timeout: 10_000 }, async () => {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  cleanup.push(() => {
    for (const socket of accepted) socket.destroy();
  });
  const port = (server.address() as { port: number }).port;

  let time = 1_000_000;
  const now = (): number => time;
  const book = new AddressBook(now);
  book.add({ host: '127.0.0.1', port }, 'manual');
  const utpCalls: string[] = [];
  const utp: UtpDialer = (host, p) => {
    utpCalls.push(`${host}:${p}`);
    return Promise.reject(new Error('no uTP here'));
  };
  const adopted: PeerConnection[] = [];
  let waiting: (() => void) | undefined;
  const dialer = new PeerDialer(
    {
      peers: new Map(),
      maxPeers: 5,
      wantsPeers: () => true,
      stopped: () => false,
      adopt: (connection) => {
        adopted.push(connection);
        waiting?.();
      },
      internalError: (error) => {
        throw error;
      },
    },
    {
      book,
      budget: new DialBudget(now),
      localHandshake: { reserved: new Uint8Array(8), infoHash: new Uint8Array(20), peerId: generatePeerId() },
      pieceCount: 1,
      encryption: 'disable',
      utp,
    },
  );
  cleanup.push(() => dialer.stop());
  const nextAdoption = (): Promise<void> => new Promise((resolve) => (waiting = resolve));

  let adoption = nextAdoption();
  dialer.more();
  await adoption;
  assert.equal(adopted[0]!.transport, 'tcp');
  assert.deepEqual(utpCalls, [`127.0.0.1:${port}`], 'uTP tried first');

  adopted[0]!.close('test');
  book.markDisconnected(adopted[0]!.key, true);
  time += 60_000;
  adoption = nextAdoption();
  dialer.more();
  await adoption;
  assert.equal(adopted.length, 2);
  assert.equal(adopted[1]!.transport, 'tcp');
  assert.equal(utpCalls.length, 1, 'no second uTP attempt: the address is remembered as TCP-only');
  adopted[1]!.close('test');
});
