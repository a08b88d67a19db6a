/**
 * A scripted BitTorrent peer for tests: a TCP server on loopback that speaks
 * just enough of the wire protocol (handshake, BEP 10, BEP 9) to behave
 * honestly or to misbehave on purpose, built on Lodestone's own codecs.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  decodeExtensionHandshake,
  decodeHandshake,
  decodeMetadataMessage,
  encodeExtensionHandshake,
  encodeHandshake,
  encodeMessage,
  encodeMetadataMessage,
  generatePeerId,
  HANDSHAKE_LENGTH,
  METADATA_BLOCK_SIZE,
  MessageDecoder,
  reservedBits,
} from '../../src/wire/index.js';
import type { Message } from '../../src/wire/types.js';

export interface ScriptedPeerContext {
  socket: Socket;
  /** Sends a message to the connected client. */
  send(message: Message): void;
  /** Sends raw bytes (for malformed input). */
  raw(bytes: Uint8Array): void;
  /** The client's ut_metadata id from its extension handshake, once known. */
  remoteMetadataId: number | undefined;
}

export interface ScriptedPeerOptions {
  host: string;
  infoHash: Buffer;
  /** The metadata this peer serves (honest or not). */
  metadata?: Buffer;
  /** Advertised metadata_size (defaults to metadata.length). */
  metadataSize?: number;
  /** Called for every message the client sends after the handshake. */
  onMessage?(message: Message, peer: ScriptedPeerContext): void;
  /** Called once the handshakes are exchanged. */
  onConnected?(peer: ScriptedPeerContext): void;
}

export interface ScriptedPeer {
  host: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Metadata blocks served. */
  blocksServed: number;
  close(): Promise<void>;
}

const OUR_METADATA_ID = 7;

export async function startScriptedPeer(options: ScriptedPeerOptions): Promise<ScriptedPeer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0, blocksServed: 0 };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    state.connections++;
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serve(socket, options, state);
  });
  await new Promise<void>((resolve) => server.listen(0, options.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: options.host,
    port,
    get connections() {
      return state.connections;
    },
    get blocksServed() {
      return state.blocksServed;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(socket: Socket, options: ScriptedPeerOptions, state: { blocksServed: number }): void {
  let handshakeBuffer: Buffer | undefined = Buffer.alloc(0);
  const decoder = new MessageDecoder({});
  const context: ScriptedPeerContext = {
    socket,
    send: (message) => socket.write(encodeMessage(message)),
    raw: (bytes) => socket.write(bytes),
    remoteMetadataId: undefined,
  };
  socket.on('data', (chunk: Buffer) => {
    let data: Buffer = chunk;
    if (handshakeBuffer !== undefined) {
      handshakeBuffer = Buffer.concat([handshakeBuffer, chunk]);
      if (handshakeBuffer.length < HANDSHAKE_LENGTH) return;
      const remote = decodeHandshake(handshakeBuffer.subarray(0, HANDSHAKE_LENGTH));
      data = handshakeBuffer.subarray(HANDSHAKE_LENGTH);
      handshakeBuffer = undefined;
      if (!Buffer.from(remote.infoHash).equals(options.infoHash)) {
        socket.destroy();
        return;
      }
      socket.write(
        encodeHandshake({
          reserved: reservedBits({ extensionProtocol: true }),
          infoHash: options.infoHash,
          peerId: generatePeerId('-SP0001-'),
        }),
      );
      const size = options.metadataSize ?? options.metadata?.length;
      context.send({
        type: 'extended',
        id: 0,
        payload: encodeExtensionHandshake({
          m: new Map([['ut_metadata', OUR_METADATA_ID]]),
          v: 'ScriptedPeer 1.0',
          ...(size !== undefined ? { metadataSize: size } : {}),
        }),
      });
      options.onConnected?.(context);
    }
    try {
      decoder.push(data);
      for (let message = decoder.next(); message; message = decoder.next()) {
        if (message.type === 'extended') handleExtended(message.id, message.payload, context, options, state);
        options.onMessage?.(message, context);
      }
    } catch {
      socket.destroy();
    }
  });
}

function handleExtended(
  id: number,
  payload: Uint8Array,
  context: ScriptedPeerContext,
  options: ScriptedPeerOptions,
  state: { blocksServed: number },
): void {
  if (id === 0) {
    context.remoteMetadataId = decodeExtensionHandshake(payload).m.get('ut_metadata');
    return;
  }
  if (id !== OUR_METADATA_ID || !options.metadata || context.remoteMetadataId === undefined) return;
  const request = decodeMetadataMessage(payload);
  if (request.msgType !== 'request') return;
  const start = request.piece * METADATA_BLOCK_SIZE;
  state.blocksServed++;
  context.send({
    type: 'extended',
    id: context.remoteMetadataId,
    payload: encodeMetadataMessage({
      msgType: 'data',
      piece: request.piece,
      totalSize: options.metadataSize ?? options.metadata.length,
      data: options.metadata.subarray(start, start + METADATA_BLOCK_SIZE),
    }),
  });
}

export interface ScriptedClient {
  socket: Socket;
  messages: Message[];
  send(message: Message): void;
  raw(bytes: Uint8Array): void;
  /** Resolves with the first received message matching `predicate`. */
  waitFor(predicate: (message: Message) => boolean, timeoutMs?: number): Promise<Message>;
  /** Resolves when the other side closes the connection. */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Stops reading from the socket (to let the other side's send buffer fill). */
  pause(): void;
  close(): void;
}

/** Dials a peer, exchanges handshakes, and records every message it sends us. */
export async function connectScriptedClient(
  host: string,
  port: number,
  infoHash: Buffer,
  options: { localAddress?: string; reserved?: Uint8Array } = {},
): Promise<ScriptedClient> {
  const { connect } = await import('node:net');
  const socket = connect({
    host,
    port,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  socket.on('error', () => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(
    encodeHandshake({
      reserved: options.reserved ?? reservedBits({ extensionProtocol: true }),
      infoHash,
      peerId: generatePeerId('-SC0001-'),
    }),
  );
  const messages: Message[] = [];
  const waiters = new Set<{ predicate: (m: Message) => boolean; resolve: (m: Message) => void }>();
  const decoder = new MessageDecoder({});
  let handshake: Buffer | undefined = Buffer.alloc(0);
  let closedFlag = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedFlag = true;
      resolve();
    }),
  );
  socket.on('data', (chunk: Buffer) => {
    let data: Buffer = chunk;
    if (handshake !== undefined) {
      handshake = Buffer.concat([handshake, chunk]);
      if (handshake.length < HANDSHAKE_LENGTH) return;
      data = handshake.subarray(HANDSHAKE_LENGTH);
      handshake = undefined;
    }
    decoder.push(data);
    for (let message = decoder.next(); message; message = decoder.next()) {
      messages.push(message);
      for (const waiter of waiters) {
        if (waiter.predicate(message)) {
          waiters.delete(waiter);
          waiter.resolve(message);
        }
      }
    }
  });
  return {
    socket,
    messages,
    send: (message) => socket.write(encodeMessage(message)),
    raw: (bytes) => socket.write(bytes),
    waitFor(predicate, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('expected message did not arrive')), timeoutMs);
        waiters.add({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    closed,
    isClosed: () => closedFlag,
    pause: () => socket.pause(),
    close: () => socket.destroy(),
  };
}
