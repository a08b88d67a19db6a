/**
 * Many scripted seeders in one process, for bench/many-peers.ts: one TCP listener per loopback
 * address given, each an honest plaintext BitTorrent seeder of one single-file torrent (handshake,
 * a full bitfield, unchoke on interest, a `piece` for every valid request). The content is read
 * into memory once. Prints one JSON line `{ "peers": [{ "host", "port" }] }` when listening, and
 * serves until stdin closes or SIGTERM.
 *
 * `node dist/bench/piece-seeders.js <data file> <info-hash hex> <piece length> <address>...`
 */
import { open } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import {
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  generatePeerId,
  HANDSHAKE_LENGTH,
  MessageDecoder,
  reservedBits,
} from '../src/wire/index.js';

const MAX_BLOCK = 16 * 1024 * 2;

async function main(): Promise<void> {
  const [dataPath, hashHex, pieceLengthText, ...hosts] = process.argv.slice(2);
  if (dataPath === undefined || hashHex === undefined || pieceLengthText === undefined || hosts.length === 0)
    throw new Error('usage: piece-seeders <data file> <info-hash hex> <piece length> <address>...');
  const infoHash = Buffer.from(hashHex, 'hex');
  const pieceLength = Number(pieceLengthText);
  const pieces = await readPieces(dataPath, pieceLength);
  const pieceCount = pieces.length;
  const bits = new Uint8Array(Math.ceil(pieceCount / 8));
  for (let i = 0; i < pieceCount; i++) bits[i >> 3]! |= 0x80 >> (i & 7);
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const peers: { host: string; port: number }[] = [];
  for (const host of hosts) {
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      serve(socket, { pieces, infoHash, pieceCount, bits });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    const address = server.address();
    peers.push({ host, port: typeof address === 'object' && address ? address.port : 0 });
    servers.push(server);
  }
  process.stdout.write(`${JSON.stringify({ peers })}\n`);
  const stop = () => {
    for (const socket of sockets) socket.destroy();
    for (const server of servers) server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

/**
 * The content, one Buffer per piece: a single Buffer (fs.readFile) cannot hold 2 GiB or more,
 * and the many-peers row may be run at 2 GiB.
 */
async function readPieces(path: string, pieceLength: number): Promise<Buffer[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const pieces: Buffer[] = [];
    for (let at = 0; at < size; at += pieceLength) {
      const piece = Buffer.allocUnsafe(Math.min(pieceLength, size - at));
      const { bytesRead } = await file.read(piece, 0, piece.length, at);
      if (bytesRead !== piece.length) throw new Error(`short read at ${at} of ${path}`);
      pieces.push(piece);
    }
    return pieces;
  } finally {
    await file.close();
  }
}

interface Content {
  pieces: Buffer[];
  infoHash: Buffer;
  pieceCount: number;
  bits: Uint8Array;
}

function serve(socket: Socket, content: Content): void {
  let handshake: Buffer | undefined = Buffer.alloc(0);
  const decoder = new MessageDecoder({});
  socket.on('data', (chunk: Buffer) => {
    let rest: Buffer = chunk;
    if (handshake !== undefined) {
      handshake = Buffer.concat([handshake, chunk]);
      if (handshake.length < HANDSHAKE_LENGTH) return;
      let remote: ReturnType<typeof decodeHandshake>;
      try {
        remote = decodeHandshake(handshake.subarray(0, HANDSHAKE_LENGTH));
      } catch {
        socket.destroy();
        return;
      }
      rest = handshake.subarray(HANDSHAKE_LENGTH);
      handshake = undefined;
      if (!Buffer.from(remote.infoHash).equals(content.infoHash)) {
        socket.destroy();
        return;
      }
      socket.write(
        encodeHandshake({
          reserved: reservedBits({}),
          infoHash: content.infoHash,
          peerId: generatePeerId('-SP0001-'),
        }),
      );
      socket.write(encodeMessage({ type: 'bitfield', bits: content.bits }));
    }
    try {
      decoder.push(rest);
      for (let message = decoder.next(); message; message = decoder.next()) {
        if (message.type === 'interested') socket.write(encodeMessage({ type: 'unchoke' }));
        else if (message.type === 'request') {
          const piece = content.pieces[message.index];
          if (
            piece === undefined ||
            message.length > MAX_BLOCK ||
            message.begin + message.length > piece.length
          ) {
            socket.destroy();
            return;
          }
          socket.write(
            encodeMessage({
              type: 'piece',
              index: message.index,
              begin: message.begin,
              block: piece.subarray(message.begin, message.begin + message.length),
            }),
          );
        }
      }
    } catch {
      socket.destroy();
    }
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`piece-seeders: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
