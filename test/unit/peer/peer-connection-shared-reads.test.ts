/**
 * Dialled connections read into one buffer shared by every connection (dial.ts's `onread`), and
 * an encrypted one decrypts that buffer in place (MseStream) before the peer wire decodes it. Two
 * connections whose reads interleave through that one buffer, which each read overwrites, must
 * each get their own messages, intact, whatever the read sizes.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import { ChunkRelay } from '../../../src/net/chunk-relay.js';
import { Rc4 } from '../../../src/net/mse/rc4.js';
import { MseStream } from '../../../src/net/mse-stream.js';
import { PeerConnection } from '../../../src/peer/peer-connection.js';
import { encodeMessage } from '../../../src/wire/index.js';
import type { Handshake } from '../../../src/wire/types.js';
import { FakeClock } from '../../helpers/fake-clock.js';

const BLOCK = 16 * 1024;
const handshake: Handshake = {
  reserved: new Uint8Array(8),
  infoHash: new Uint8Array(20).fill(1),
  peerId: new Uint8Array(20).fill(2),
};

/** A socket that swallows writes (the connection's own sends do not matter here). */
function sink(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

function stream(fill: number): Buffer {
  return Buffer.concat([
    encodeMessage({ type: 'have', index: fill }),
    ...[0, 1, 2, 3].map((i) =>
      encodeMessage({ type: 'piece', index: i, begin: 0, block: Buffer.alloc(BLOCK, fill + i) }),
    ),
    encodeMessage({ type: 'extended', id: 3, payload: Buffer.alloc(300, fill) }),
  ]);
}

const expected = (fill: number): string[] => [
  `have ${fill}`,
  ...[0, 1, 2, 3].map((i) => `piece ${i} ${BLOCK} ${fill + i}`),
  `extended 300 ${fill}`,
];

function describe(message: { type: string } & Record<string, unknown>): string {
  const bytes = (message.block ?? message.payload) as Uint8Array | undefined;
  const first = bytes?.[0];
  const same = bytes === undefined || bytes.every((b) => b === first) ? first : 'torn';
  if (message.type === 'have') return `have ${message.index}`;
  if (message.type === 'piece') return `piece ${message.index} ${bytes!.length} ${same}`;
  if (message.type === 'extended') return `extended ${bytes!.length} ${same}`;
  return message.type;
}

for (const encrypted of [false, true]) {
  test(`two ${encrypted ? 'RC4 ' : ''}connections reading interleaved through one shared buffer never see each other’s bytes`, () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }),
        (sizes, turns) => {
          const shared = Buffer.alloc(30_000);
          const fills = [10, 100];
          const wires = fills.map((fill) => stream(fill));
          const seen: string[][] = [[], []];
          const relays = fills.map((_, who) => {
            const relay = new ChunkRelay(); // the socket's reads, as dialPeer makes them
            const key = Buffer.from([who + 1, 2, 3]);
            let reads = relay;
            let socket = sink();
            if (encrypted) {
              new Rc4(key).process(wires[who]!); // what the peer sends
              const mse = new MseStream(
                socket,
                { encrypt: undefined, decrypt: new Rc4(key) },
                new Uint8Array(0),
                relay,
              );
              socket = mse;
              reads = mse.reads as ChunkRelay;
            }
            const connection = new PeerConnection({
              socket,
              reads,
              address: { host: '127.0.0.1', port: 6881 + who },
              direction: 'inbound',
              localHandshake: handshake,
              remoteHandshake: handshake,
              clock: new FakeClock(),
            });
            connection.on('message', (message) => seen[who]!.push(describe(message as never)));
            connection.on('close', (reason) => assert.fail(`connection ${who} closed: ${reason}`));
            return { relay, connection };
          });
          const offsets = [0, 0];
          for (let i = 0; offsets[0]! < wires[0]!.length || offsets[1]! < wires[1]!.length; i++) {
            let who = turns[i % turns.length]! ? 1 : 0;
            if (offsets[who]! >= wires[who]!.length) who = 1 - who;
            const length = wires[who]!.copy(
              shared,
              0,
              offsets[who]!,
              offsets[who]! + sizes[i % sizes.length]!,
            );
            offsets[who]! += length;
            relays[who]!.relay.deliver(shared.subarray(0, length));
            shared.fill(0xee); // the next read, of either connection, lands in the same memory
          }
          for (const { connection } of relays) {
            connection.removeAllListeners('close');
            connection.close();
          }
          assert.deepEqual(seen[0], expected(10));
          assert.deepEqual(seen[1], expected(100));
        },
      ),
      { numRuns: 100 },
    );
  });
}
