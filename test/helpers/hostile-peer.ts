/**
 * Hostile peers for tests, in the spirit of scripted-peer.ts but able to
 * misbehave before, during and after the handshake: a listening peer that a
 * Lodestone leecher dials (startHostilePeer), a raw dialer for attacking a
 * Lodestone listener byte by byte (dialRaw), ready-made behaviours (a seeder
 * answering every request with garbage), and a memory probe that collects
 * garbage first so deltas measure what is retained, not what is pending GC.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { PeerAddress } from '../../src/address.js';
import {
  encodeHandshake,
  encodeMessage,
  generatePeerId,
  HANDSHAKE_LENGTH,
  MessageDecoder,
  reservedBits,
} from '../../src/wire/index.js';
import type { Message } from '../../src/wire/types.js';

/** How a hostile peer answers the handshake of whoever dials it. */
export type HandshakeMode =
  /** A correct handshake (with the BEP 10 bit unless `extensionProtocol: false`). */
  | 'honest'
  /** Accepts the TCP connection and never sends a byte. */
  | 'silent'
  /** A well-formed handshake for another torrent. */
  | 'wrong-info-hash'
  /** 68 bytes whose protocol string is not "BitTorrent protocol". */
  | 'wrong-protocol'
  /** A correct handshake, one byte every `dribbleIntervalMs` (slowloris). */
  | 'dribble';

export interface HostileConnection {
  readonly socket: Socket;
  /** Every message received from the client after the handshakes. */
  readonly received: Message[];
  /** Requests not yet answered or cancelled, as the client sees them ("index:begin"). */
  readonly pending: Map<string, { index: number; begin: number; length: number }>;
  /** Most requests ever pending at once. */
  maxPending: number;
  send(message: Message): void;
  raw(bytes: Uint8Array): void;
  /** Answers a request, removing it from `pending` (what a real seeder does). */
  answer(index: number, begin: number, block: Uint8Array): void;
  readonly closed: boolean;
}

export interface HostileBehaviour {
  /** After the handshakes are exchanged (never called for modes that do not complete one). */
  onConnected?(peer: HostileConnection): void;
  /** Every message the client sends after the handshake. */
  onMessage?(message: Message, peer: HostileConnection): void;
}

export interface HostilePeerOptions extends HostileBehaviour {
  host: string;
  infoHash: Buffer;
  /** @default 'honest' */
  handshake?: HandshakeMode;
  /** @default 1000 */
  dribbleIntervalMs?: number;
  /** Set the BEP 10 bit in the handshake. @default true */
  extensionProtocol?: boolean;
}

export interface HostilePeer {
  readonly host: string;
  readonly port: number;
  readonly address: PeerAddress;
  /** The key a Lodestone session uses for this peer once it dials it ("host:port"). */
  readonly key: string;
  readonly connections: HostileConnection[];
  close(): Promise<void>;
}

/** A listening peer that greets its callers as told and then follows `behaviour`. */
export async function startHostilePeer(options: HostilePeerOptions): Promise<HostilePeer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const connections: HostileConnection[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const connection = trackConnection(socket, options);
    connections.push(connection);
    greet(socket, options, timers);
  });
  await new Promise<void>((resolve) => server.listen(0, options.host, resolve));
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : 0;
  return {
    host: options.host,
    port,
    address: { host: options.host, port },
    key: `${options.host}:${port}`,
    connections,
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function greet(socket: Socket, options: HostilePeerOptions, timers: Set<NodeJS.Timeout>): void {
  const mode = options.handshake ?? 'honest';
  if (mode === 'silent') return;
  const bytes = handshakeBytes({
    infoHash: mode === 'wrong-info-hash' ? randomBytes(20) : options.infoHash,
    extensionProtocol: options.extensionProtocol ?? true,
    protocol: mode === 'wrong-protocol' ? 'BitTorrent protocoX' : undefined,
  });
  if (mode !== 'dribble') {
    socket.write(bytes);
    return;
  }
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || sent >= bytes.length) {
      clearInterval(timer);
      timers.delete(timer);
      return;
    }
    socket.write(bytes.subarray(sent, sent + 1));
    sent++;
  }, options.dribbleIntervalMs ?? 1000);
  timers.add(timer);
}

/** Reads the client's handshake and messages, keeping the request bookkeeping tests assert on. */
function trackConnection(socket: Socket, behaviour: HostilePeerOptions): HostileConnection {
  const decoder = new MessageDecoder({});
  let handshake: Buffer | undefined = Buffer.alloc(0);
  const pending = new Map<string, { index: number; begin: number; length: number }>();
  const connection: HostileConnection = {
    socket,
    received: [],
    pending,
    maxPending: 0,
    send: (message) => {
      if (!socket.destroyed) socket.write(encodeMessage(message));
    },
    raw: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    answer(index, begin, block) {
      pending.delete(`${index}:${begin}`);
      connection.send({ type: 'piece', index, begin, block });
    },
    get closed() {
      return socket.destroyed;
    },
  };
  const mode = behaviour.handshake ?? 'honest';
  socket.on('data', (chunk: Buffer) => {
    let data: Buffer = chunk;
    if (handshake !== undefined) {
      handshake = Buffer.concat([handshake, chunk]);
      if (handshake.length < HANDSHAKE_LENGTH) return;
      data = handshake.subarray(HANDSHAKE_LENGTH);
      handshake = undefined;
      // Only a peer that sent a complete, valid handshake goes on to talk.
      if (mode === 'honest') behaviour.onConnected?.(connection);
    }
    try {
      decoder.push(data);
      for (let message = decoder.next(); message; message = decoder.next()) {
        connection.received.push(message);
        if (message.type === 'request') {
          pending.set(`${message.index}:${message.begin}`, message);
          connection.maxPending = Math.max(connection.maxPending, pending.size);
        } else if (message.type === 'cancel') {
          pending.delete(`${message.index}:${message.begin}`);
        } else if (message.type === 'choke') {
          pending.clear();
        }
        behaviour.onMessage?.(message, connection);
      }
    } catch {
      socket.destroy();
    }
  });
  return connection;
}

/** A handshake, correct unless told otherwise. */
export function handshakeBytes(options: {
  infoHash: Uint8Array;
  extensionProtocol?: boolean;
  /** A 19-character replacement for "BitTorrent protocol". */
  protocol?: string | undefined;
  peerId?: Uint8Array;
}): Buffer {
  const bytes = encodeHandshake({
    reserved: reservedBits({ extensionProtocol: options.extensionProtocol ?? true }),
    infoHash: options.infoHash,
    peerId: options.peerId ?? generatePeerId('-HP0001-'),
  });
  if (options.protocol !== undefined) bytes.write(options.protocol.padEnd(19).slice(0, 19), 1, 'latin1');
  return bytes;
}

/** A bitfield with every one of `pieceCount` pieces set (spare bits clear). */
export function fullBitfield(pieceCount: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(pieceCount / 8)).fill(0xff);
  const spare = bits.length * 8 - pieceCount;
  if (spare > 0) bits[bits.length - 1] = (0xff << spare) & 0xff;
  return bits;
}

/**
 * A seeder that claims every piece, unchokes at once, and answers every
 * request promptly with the block `read` returns (honest data, or lies).
 */
export function blockSeeder(
  pieceCount: number,
  read: (index: number, begin: number, length: number) => Uint8Array,
): HostileBehaviour & { blocksSent(): number } {
  let sent = 0;
  return {
    blocksSent: () => sent,
    onConnected(peer) {
      peer.send({ type: 'bitfield', bits: fullBitfield(pieceCount) });
      peer.send({ type: 'unchoke' });
    },
    onMessage(message, peer) {
      if (message.type !== 'request') return;
      sent++;
      peer.answer(message.index, message.begin, read(message.index, message.begin, message.length));
    },
  };
}

/**
 * A seeder that lies: random bytes of exactly the requested length, so only
 * the piece hash can tell it apart from an honest one.
 */
export function garbageSeeder(pieceCount: number): HostileBehaviour & { blocksSent(): number } {
  return blockSeeder(pieceCount, (_index, _begin, length) => randomBytes(length));
}

/**
 * A seeder that claims every piece and unchokes, then never sends a block:
 * only keep-alives, every `intervalMs`, so it never looks dead.
 */
export function keepAliveOnlySeeder(pieceCount: number, intervalMs = 200): HostileBehaviour {
  return {
    onConnected(peer) {
      peer.send({ type: 'bitfield', bits: fullBitfield(pieceCount) });
      peer.send({ type: 'unchoke' });
      const timer = setInterval(() => {
        if (peer.closed) clearInterval(timer);
        else peer.send({ type: 'keep-alive' });
      }, intervalMs);
      timer.unref();
    },
  };
}

export interface RawClient {
  readonly socket: Socket;
  /** Bytes received so far (kept up to 1 MiB: enough to see a handshake and first messages). */
  received(): Buffer;
  write(bytes: Uint8Array): void;
  /** Writes `bytes` one at a time, `intervalMs` apart, until done or the socket closes. */
  dribble(bytes: Uint8Array, intervalMs: number): void;
  /** Resolves with the milliseconds from connecting until the other side closed the connection. */
  readonly closed: Promise<number>;
  isClosed(): boolean;
  close(): void;
}

const RAW_RECEIVE_LIMIT = 1024 * 1024;

/** A bare TCP connection, for sending a listener whatever bytes a test wants. */
export async function dialRaw(host: string, port: number, localAddress?: string): Promise<RawClient> {
  const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  socket.on('data', (chunk: Buffer) => {
    if (size >= RAW_RECEIVE_LIMIT) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => socket.destroy());
  const connectedAt = Date.now();
  let isClosed = false;
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      if (timer) clearInterval(timer);
      resolve(Date.now() - connectedAt);
    }),
  );
  return {
    socket,
    received: () => Buffer.concat(chunks),
    write: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
    dribble(bytes, intervalMs) {
      let sent = 0;
      timer = setInterval(() => {
        if (socket.destroyed || sent >= bytes.length) {
          clearInterval(timer);
          return;
        }
        socket.write(bytes.subarray(sent, sent + 1));
        sent++;
      }, intervalMs);
    },
    closed,
    isClosed: () => isClosed,
    close: () => socket.destroy(),
  };
}

/** A 4-byte big-endian length prefix followed by `body` (for messages the codec refuses to build). */
export function rawMessage(length: number, body: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(length, 0);
  out.set(body, 4);
  return out;
}

let collect: (() => void) | undefined;

/**
 * process.memoryUsage() after a full garbage collection, so a before/after
 * delta counts memory still referenced, not garbage not yet collected.
 */
export function retainedMemory(): NodeJS.MemoryUsage {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  return process.memoryUsage();
}
