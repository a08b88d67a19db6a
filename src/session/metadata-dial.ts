import { formatAddress, type PeerAddress } from '../address.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import { connectPeer } from '../peer/connect-peer.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { PeerConnection } from '../peer/peer-connection.js';
import type { Handshake } from '../wire/types.js';
import type { DialMemory } from './dial-memory.js';
import { type PeerDialTimeouts, peerDialTimeouts } from './peer-dialer.js';

/**
 * The metadata phase's dial timeouts: the download's ({@link peerDialTimeouts}), while `untried`
 * addresses wait and `connected` peers are connected.
 */
export function metadataDialTimeouts(connected: number, untried: number): PeerDialTimeouts {
  return peerDialTimeouts({}, untried, connected);
}

/** What a metadata phase dials with (the same as its torrent's download would). */
export interface MetadataDialContext {
  memory: DialMemory;
  localHandshake: Handshake;
  encryption: EncryptionPolicy;
  utp: UtpDialer | undefined;
  bindAddress: string | undefined;
}

/**
 * Dials a peer for a magnet's metadata the way the download does (see PeerDialer): the
 * encryption policy's ways in (the one that worked last first), uTP first and TCP after a head
 * start when a uTP dialler is given (TCP only where TCP won before), with the download's connect
 * and handshake timeouts. `attach` gets the connection synchronously, as soon as it exists:
 * bytes that came with the encryption handshake (a plaintext peer's handshake, say) are replayed
 * in a microtask, before an awaiting caller would run. Resolves with the connection and the way in
 * (for `rememberWay`), or undefined when `wanted()` turned false meanwhile (the socket is then
 * closed); rejects when the peer cannot be reached.
 */
export async function dialMetadataPeer(
  address: PeerAddress,
  timeouts: PeerDialTimeouts,
  context: MetadataDialContext,
  wanted: () => boolean,
  attach: (connection: PeerConnection) => void,
): Promise<{ connection: PeerConnection; way: 'mse' | 'plain' } | undefined> {
  const key = formatAddress(address);
  const { memory, localHandshake, encryption, utp } = context;
  const { socket, reads, handshakeSent, ...dialed } = await connectPeer(address, {
    timeoutMs: timeouts.connectMs,
    ...(context.bindAddress ? { bindAddress: context.bindAddress } : {}),
    localHandshake,
    encryption,
    remembered: memory.way(key),
    handshakeTimeoutMs: timeouts.handshakeMs,
    utp,
    tcpDelayMs: timeouts.tcpDelayMs,
    rememberedTransport: memory.transport(key),
  });
  memory.connected(key, dialed.transport, utp !== undefined);
  if (!wanted()) {
    socket.destroy();
    return undefined;
  }
  const connection = new PeerConnection({
    socket,
    address,
    direction: 'outbound',
    ...(reads ? { reads } : {}),
    handshakeSent,
    encryption: dialed.encryption,
    transport: dialed.transport,
    handshakeTimeoutMs: timeouts.handshakeMs,
    localHandshake,
  });
  attach(connection);
  return { connection, way: dialed.way };
}
