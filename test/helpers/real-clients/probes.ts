/**
 * Independent checks that a real client is reachable the way a test expects:
 * the tracker lists it, and it answers a BitTorrent handshake for the torrent.
 * Written from the BEP texts directly, so they do not rely on Lodestone's own
 * tracker or wire code (which is what the integration tests exercise).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { decode, getBytes, getText } from '../../../src/bencode/index.js';
import { delay, RealClientError } from './common.js';
import { httpRequest, probeSourceAddress } from './net.js';

export interface ListedPeer {
  address: string;
  port: number;
}

/** Percent-encodes every byte (BEP 3 info_hash/peer_id are raw bytes in the query). */
function percentEncode(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
}

/**
 * One HTTP announce (BEP 3, compact BEP 23) on a fresh connection, as a
 * probe peer on port 1 with 100 bytes left. Returns the IPv4 peers listed.
 */
export async function announceToTracker(
  httpUrl: string,
  infoHash: Uint8Array,
  options: { event?: 'started' | 'stopped'; peerId?: Uint8Array; numwant?: number } = {},
): Promise<ListedPeer[]> {
  const peerId = options.peerId ?? Buffer.from('-LSPROBE-00000000001', 'latin1');
  const query = [
    `info_hash=${percentEncode(infoHash)}`,
    `peer_id=${percentEncode(peerId)}`,
    'port=1',
    'uploaded=0',
    'downloaded=0',
    'left=100',
    'compact=1',
    `numwant=${options.numwant ?? 200}`,
  ];
  if (options.event !== undefined) query.push(`event=${options.event}`);
  const separator = httpUrl.includes('?') ? '&' : '?';
  const response = await httpRequest(`${httpUrl}${separator}${query.join('&')}`);
  if (response.status !== 200) throw new RealClientError(`tracker answered HTTP ${response.status}`);
  const root = decode(new Uint8Array(response.body));
  if (!(root instanceof Map)) throw new RealClientError('tracker answer is not a dictionary');
  const failure = getText(root, 'failure reason');
  if (failure !== undefined) throw new RealClientError(`tracker refused: ${failure}`);
  const compact = getBytes(root, 'peers') ?? new Uint8Array(0);
  const peers: ListedPeer[] = [];
  for (let offset = 0; offset + 6 <= compact.length; offset += 6) {
    peers.push({
      address: Array.from(compact.subarray(offset, offset + 4)).join('.'),
      port: (compact[offset + 4]! << 8) | compact[offset + 5]!,
    });
  }
  return peers;
}

/**
 * Announces until the tracker lists `address:port`, then withdraws the probe
 * peer (event=stopped) so other clients are not handed a bogus 127.0.0.1:1.
 */
export async function waitTrackerListsPeer(
  httpUrl: string,
  infoHash: Uint8Array,
  peer: ListedPeer,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '(no answer yet)';
  try {
    for (;;) {
      try {
        const peers = await announceToTracker(httpUrl, infoHash);
        if (peers.some((p) => p.address === peer.address && p.port === peer.port)) return;
        last = peers.map((p) => `${p.address}:${p.port}`).join(', ') || '(none)';
      } catch (error) {
        last = `error: ${(error as Error).message}`;
      }
      if (Date.now() > deadline) {
        throw new RealClientError(
          `tracker ${httpUrl} did not list ${peer.address}:${peer.port} within ${timeoutMs} ms; last peers: ${last}`,
        );
      }
      await delay(250);
    }
  } finally {
    await announceToTracker(httpUrl, infoHash, { event: 'stopped' }).catch(() => undefined);
  }
}

export interface HandshakeProbeResult {
  reserved: Uint8Array;
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** Ids of the messages received after the handshake, in order (keep-alives left out). */
  messageIds: number[];
  /** Payload of the bitfield message, if one came. */
  bitfield?: Uint8Array;
  /** Whether a BEP 6 have-all came instead of a bitfield. */
  haveAll: boolean;
}

const PROTOCOL = Buffer.from('BitTorrent protocol', 'latin1');
const MAX_PROBE_MESSAGE = 1 << 20;

/**
 * Connects to a peer, sends a plain BEP 3 handshake (no extension bits) and
 * reads its handshake and the messages that follow until a bitfield or
 * have-all/have-none arrives, the peer closes, or `timeoutMs` passes.
 */
export function probeHandshake(
  address: string,
  port: number,
  infoHash: Uint8Array,
  options: { timeoutMs?: number; localAddress?: string } = {},
): Promise<HandshakeProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address, port, localAddress: options.localAddress });
    let buffer = Buffer.alloc(0);
    let handshake: Omit<HandshakeProbeResult, 'messageIds' | 'haveAll'> | undefined;
    const messageIds: number[] = [];
    let bitfield: Uint8Array | undefined;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (handshake === undefined) {
        reject(error ?? new RealClientError(`${address}:${port} sent no handshake`));
        return;
      }
      resolve({ ...handshake, messageIds, bitfield, haveAll: messageIds.includes(0x0e) });
    };
    const timer = setTimeout(
      () => finish(new RealClientError(`handshake probe timed out (${timeoutMs} ms)`)),
      timeoutMs,
    );
    socket.on('connect', () => {
      const peerId = Buffer.concat([Buffer.from('-LSPROBE-', 'latin1'), randomBytes(11)]);
      socket.write(
        Buffer.concat([Buffer.from([PROTOCOL.length]), PROTOCOL, Buffer.alloc(8), infoHash, peerId]),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (handshake === undefined) {
        if (buffer.length < 68) return;
        if (buffer[0] !== 19 || !buffer.subarray(1, 20).equals(PROTOCOL)) {
          finish(new RealClientError('answer is not a BitTorrent handshake'));
          return;
        }
        handshake = {
          reserved: new Uint8Array(buffer.subarray(20, 28)),
          infoHash: new Uint8Array(buffer.subarray(28, 48)),
          peerId: new Uint8Array(buffer.subarray(48, 68)),
        };
        buffer = buffer.subarray(68);
      }
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (length > MAX_PROBE_MESSAGE) {
          finish(new RealClientError(`message of ${length} bytes is too long for a probe`));
          return;
        }
        if (buffer.length < 4 + length) return;
        if (length > 0) {
          const id = buffer[4]!;
          messageIds.push(id);
          if (id === 5) bitfield = new Uint8Array(buffer.subarray(5, 4 + length));
        }
        buffer = buffer.subarray(4 + length);
        // bitfield (5), have-all (0x0e) or have-none (0x0f) tell what the peer has: enough.
        if (messageIds.some((id) => id === 5 || id === 0x0e || id === 0x0f)) {
          finish();
          return;
        }
      }
    });
    socket.on('error', (error) => finish(error));
    socket.on('close', () => finish());
  });
}

/** Whether a bitfield has exactly the first `pieceCount` bits set (a complete seeder). */
export function isCompleteBitfield(bitfield: Uint8Array, pieceCount: number): boolean {
  if (bitfield.length !== Math.ceil(pieceCount / 8)) return false;
  for (let piece = 0; piece < bitfield.length * 8; piece++) {
    const set = (bitfield[piece >> 3]! & (0x80 >> (piece & 7))) !== 0;
    if (set !== piece < pieceCount) return false;
  }
  return true;
}

/**
 * Whether the peer at address:port answers a handshake for the torrent with
 * the same info-hash and all pieces (complete bitfield or have-all).
 */
export async function servesCompleteTorrent(
  address: string,
  port: number,
  torrent: { infoHash: Uint8Array; pieceCount: number },
  timeoutMs = 2000,
): Promise<boolean> {
  try {
    const answer = await probeHandshake(address, port, torrent.infoHash, {
      timeoutMs,
      localAddress: probeSourceAddress(),
    });
    const sameTorrent = Buffer.from(answer.infoHash).equals(Buffer.from(torrent.infoHash));
    const complete =
      answer.haveAll ||
      (answer.bitfield !== undefined && isCompleteBitfield(answer.bitfield, torrent.pieceCount));
    return sameTorrent && complete;
  } catch {
    return false;
  }
}
