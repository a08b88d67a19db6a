import type { PeerAddress } from '../address.js';
import { TrackerError } from '../errors.js';
import { parseCompactPeers, sanitizeTrackerText } from './announce-common.js';
import type { AnnounceEvent, AnnounceRequest } from './types.js';

/** BEP 15 magic constant that opens every connect request. */
export const UDP_PROTOCOL_ID = 0x41727101980n;

export const UdpAction = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;

const EVENT_CODES: Record<AnnounceEvent | 'none', number> = { none: 0, completed: 1, started: 2, stopped: 3 };

export type UdpResponse =
  | { action: 'connect'; transactionId: number; connectionId: bigint }
  | {
      action: 'announce';
      transactionId: number;
      /** Raw seconds as sent; the client sanitises it. */
      interval: number;
      leechers: number;
      seeders: number;
      peers: PeerAddress[];
    }
  | { action: 'error'; transactionId: number; message: string };

export interface DecodeUdpOptions {
  /** The socket is IPv6, so peers are 18-byte entries instead of 6. @default false */
  ipv6?: boolean;
}

/** Offset 0: protocol id, 8: action 0, 12: transaction id. */
export function encodeConnectRequest(transactionId: number): Buffer {
  const packet = Buffer.alloc(16);
  packet.writeBigUInt64BE(UDP_PROTOCOL_ID, 0);
  packet.writeUInt32BE(UdpAction.connect, 8);
  packet.writeUInt32BE(transactionId >>> 0, 12);
  return packet;
}

function unsigned64(value: number): bigint {
  return Number.isFinite(value) && value > 0
    ? BigInt(Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER))
    : 0n;
}

/** The 98-byte announce request of BEP 15 (IPv4 `ip` field always 0: the tracker uses the source address). */
export function encodeAnnounceRequest(fields: {
  connectionId: bigint;
  transactionId: number;
  request: AnnounceRequest;
}): Buffer {
  const { connectionId, transactionId, request } = fields;
  if (request.infoHash.length !== 20) throw new TrackerError('info hash must be 20 bytes for a UDP announce');
  if (request.peerId.length !== 20) throw new TrackerError('peer id must be 20 bytes for a UDP announce');
  const packet = Buffer.alloc(98);
  packet.writeBigUInt64BE(BigInt.asUintN(64, connectionId), 0);
  packet.writeUInt32BE(UdpAction.announce, 8);
  packet.writeUInt32BE(transactionId >>> 0, 12);
  packet.set(request.infoHash, 16);
  packet.set(request.peerId, 36);
  packet.writeBigUInt64BE(unsigned64(request.downloaded), 56);
  packet.writeBigUInt64BE(unsigned64(request.left), 64);
  packet.writeBigUInt64BE(unsigned64(request.uploaded), 72);
  packet.writeUInt32BE(EVENT_CODES[request.event ?? 'none'], 80);
  packet.writeUInt32BE(0, 84); // IP address: 0 = "use the sender's"
  packet.writeUInt32BE(request.key >>> 0, 88);
  const numwant = request.numwant ?? 50;
  packet.writeInt32BE(Number.isInteger(numwant) && numwant >= 0 ? Math.min(numwant, 0x7fffffff) : -1, 92);
  packet.writeUInt16BE(Math.max(0, Math.min(65535, Math.floor(request.port) || 0)), 96);
  return packet;
}

/**
 * Decodes any datagram a UDP tracker sends back. Longer-than-needed packets are
 * accepted (BEP 15: "do not expect packets to be exactly of a certain size");
 * shorter ones and unknown actions throw TrackerError.
 */
export function decodeUdpResponse(bytes: Uint8Array, options: DecodeUdpOptions = {}): UdpResponse {
  const packet = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (packet.length < 8) throw new TrackerError(`UDP tracker packet too short (${packet.length} bytes)`);
  const action = packet.readUInt32BE(0);
  const transactionId = packet.readUInt32BE(4);
  switch (action) {
    case UdpAction.connect:
      if (packet.length < 16) {
        throw new TrackerError(`UDP connect response too short (${packet.length} bytes)`);
      }
      return { action: 'connect', transactionId, connectionId: packet.readBigUInt64BE(8) };
    case UdpAction.announce: {
      if (packet.length === 8) {
        // opentracker's way of refusing a hash it does not track (whitelist): a bare header.
        throw new TrackerError(
          'UDP tracker refused the announce (empty answer, e.g. torrent not authorized)',
        );
      }
      if (packet.length < 20) {
        throw new TrackerError(`UDP announce response too short (${packet.length} bytes)`);
      }
      const peers = parseCompactPeers(packet.subarray(20), options.ipv6 ? 6 : 4);
      return {
        action: 'announce',
        transactionId,
        interval: packet.readUInt32BE(8),
        leechers: packet.readUInt32BE(12),
        seeders: packet.readUInt32BE(16),
        peers,
      };
    }
    case UdpAction.error: {
      const text = sanitizeTrackerText(packet.subarray(8, 8 + 2048).toString('utf8'));
      return { action: 'error', transactionId, message: text || 'unspecified error' };
    }
    default:
      throw new TrackerError(`unexpected UDP tracker action ${action}`);
  }
}
