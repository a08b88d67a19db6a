import { formatAddress, type PeerAddress } from '../address.js';
import type { EncryptionPolicy } from '../net/mse/policy.js';
import { connectPeer } from '../peer/connect-peer.js';
import type { UtpDialer } from '../peer/dial-transport.js';
import { PeerConnection } from '../peer/peer-connection.js';
import type { Handshake } from '../wire/types.js';
import type { DialMemory } from './dial-memory.js';
import { type PeerDialTimeouts, peerDialTimeouts } from './peer-dialer.js';

/**
 * uTP's head start before TCP while a magnet has no peer yet: RFC 8305's lowest recommended
 * connection attempt delay (100 ms; its default is 250). A magnet can do nothing until a peer
 * connects, and a peer found through the DHT says nothing of uTP, so a TCP-only peer (libtorrent
 * with uTP off, most of Transmission's) costs the whole head start: at 250 ms that was over half of
 * the trackerless bench row's time to metadata. A uTP peer still wins when it answers within the
 * head start plus TCP's round trip (a TCP refusal comes one round trip after the head start, the
 * uTP answer one round trip after the start). The connection is dropped once the metadata is in,
 * so the transport it used matters less than in the download.
 */
export const FIRST_PEER_TCP_DELAY_MS = 100;

/**
 * The metadata phase's dial timeouts: the download's ({@link peerDialTimeouts}, while `untried`
 * addresses wait), with a head start for uTP of at most {@link FIRST_PEER_TCP_DELAY_MS} while no
 * peer is connected (`connected` 0).
 */
export function metadataDialTimeouts(connected: number, untried: number): PeerDialTimeouts {
  const timeouts = peerDialTimeouts({}, untried);
  if (connected > 0) return timeouts;
  return { ...timeouts, tcpDelayMs: Math.min(timeouts.tcpDelayMs, FIRST_PEER_TCP_DELAY_MS) };
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
