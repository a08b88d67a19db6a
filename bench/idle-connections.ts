/**
 * What an idle peer connection costs in memory: N dialled `PeerConnection`s (TCP, plaintext, the
 * shared `onread` buffer, as the session dials) to a scripted peer in a child process, which
 * answers the handshake, sends a bitfield and an unchoke, then two `piece` messages each split
 * over two socket writes 20 ms apart (so every connection has once carried a message across
 * reads, as every connection of a download does), and then says nothing. Once every connection
 * has its two blocks, this process collects garbage and reports the growth of
 * `process.memoryUsage()` (`arrayBuffers`, `external`, `heapUsed`) per connection, against a
 * baseline taken after one warm-up connection (so the shared read buffer is not counted).
 *
 * `node dist/bench/idle-connections.js [--connections 200]` (after `npm run build`). The scripted
 * peer runs as `node dist/bench/idle-connections.js --serve` and is ended by its PID.
 */
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { dialPeer } from '../src/peer/dial.js';
import { PeerConnection } from '../src/peer/peer-connection.js';
import { encodeHandshake, encodeMessage, HANDSHAKE_LENGTH, reservedBits } from '../src/wire/index.js';
import type { Handshake } from '../src/wire/types.js';
import { retainedMemory } from '../test/helpers/hostile-peer.js';

const PIECE_COUNT = 64;
const BLOCK = 16 * 1024;
const INFO_HASH = new Uint8Array(20).fill(7);

function scriptedPeer(): void {
  const bits = new Uint8Array(PIECE_COUNT / 8).fill(0xff);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received < HANDSHAKE_LENGTH || received - chunk.length >= HANDSHAKE_LENGTH) return;
      socket.write(
        encodeHandshake({
          reserved: reservedBits({}),
          infoHash: INFO_HASH,
          peerId: new Uint8Array(20).fill(9),
        }),
      );
      socket.write(encodeMessage({ type: 'bitfield', bits }));
      socket.write(encodeMessage({ type: 'unchoke' }));
      const pieces = [0, 1].map((index) =>
        encodeMessage({ type: 'piece', index, begin: 0, block: Buffer.alloc(BLOCK, index + 1) }),
      );
      let step = 0;
      const next = (): void => {
        if (step === pieces.length * 2 || socket.destroyed) return;
        const piece = pieces[step >> 1]!;
        socket.write(step % 2 === 0 ? piece.subarray(0, 5000) : piece.subarray(5000));
        step++;
        setTimeout(next, 20);
      };
      next();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`,
    );
  });
  const stop = (): void => {
    for (const socket of sockets) socket.destroy();
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
}

/** Memory still referenced: collections with pauses between, for buffers released after a turn. */
async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    retainedMemory();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return retainedMemory();
}

async function open(port: number, count: number): Promise<PeerConnection[]> {
  const localHandshake: Handshake = {
    reserved: reservedBits({}),
    infoHash: INFO_HASH,
    peerId: new Uint8Array(20).fill(3),
  };
  const connections: PeerConnection[] = [];
  let pieces = 0;
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${pieces} of ${count * 2} blocks arrived`)),
      30_000,
    );
    const onPiece = (): void => {
      if (++pieces === count * 2) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (let i = 0; i < count; i++) {
      dialPeer({ host: '127.0.0.1', port }).then(({ socket, reads }) => {
        const connection = new PeerConnection({
          socket,
          reads,
          address: { host: '127.0.0.1', port },
          direction: 'outbound',
          localHandshake,
          pieceCount: PIECE_COUNT,
        });
        connection.on('message', (message) => {
          if (message.type === 'piece') onPiece();
        });
        connection.on('close', (reason) => reject(new Error(`a connection closed: ${reason}`)));
        connections.push(connection);
      }, reject);
    }
  });
  await done;
  return connections;
}

async function measure(count: number): Promise<void> {
  const child = spawn(process.execPath, [process.argv[1]!, '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) =>
        resolve((JSON.parse(chunk.toString()) as { port: number }).port),
      );
      child.once('exit', (code) => reject(new Error(`the scripted peer exited (${code})`)));
    });
    const warm = await open(port, 1);
    const before = await settle();
    const connections = await open(port, count);
    const after = await settle();
    const per = (key: 'arrayBuffers' | 'external' | 'heapUsed'): string =>
      `${((after[key] - before[key]) / count / 1024).toFixed(1)} KiB`;
    process.stdout.write(
      `${count} idle connections (each once carried a message across reads): per connection ` +
        `arrayBuffers ${per('arrayBuffers')}, external ${per('external')}, heapUsed ${per('heapUsed')}\n`,
    );
    for (const connection of [...warm, ...connections]) connection.close();
  } finally {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
  }
}

const { values } = parseArgs({
  options: { serve: { type: 'boolean', default: false }, connections: { type: 'string', default: '200' } },
});
if (values.serve) scriptedPeer();
else await measure(Number(values.connections));
