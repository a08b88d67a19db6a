import { peersToRotate } from '../policy/peer-rotation.js';
import type { AddressBook } from './address-book.js';
import type { PeerState } from './peer-state.js';

/** When a peer was last useful: its last piece, or its connection when it sent none. */
function lastUsefulAt(peer: PeerState): number {
  return Math.max(peer.connectedAt, peer.lastPieceAt);
}

/** Closes the least recently useful peers down to `limit` (a lowered per-torrent peer limit). */
export function closeSurplus(peers: ReadonlyMap<string, PeerState>, limit: number): void {
  const surplus = peers.size - limit;
  if (surplus <= 0) return;
  const ordered = [...peers.values()].sort((a, b) => lastUsefulAt(a) - lastUsefulAt(b));
  for (const peer of ordered.slice(0, surplus)) peer.connection.close("over the torrent's peer limit");
}

/** Closes the least recently useful peer, to give its slot to a starved torrent; false when none. */
export function yieldLeastUseful(peers: ReadonlyMap<string, PeerState>): boolean {
  let worst: PeerState | undefined;
  for (const peer of peers.values()) if (!worst || lastUsefulAt(peer) < lastUsefulAt(worst)) worst = peer;
  worst?.connection.close('gave its slot to a torrent below its fair share of the global peer limit');
  return worst !== undefined;
}

/** Full, with untried addresses waiting: closes useless peers to make room (see peersToRotate). */
export function rotateUselessPeers(
  peers: ReadonlyMap<string, PeerState>,
  maxPeers: number,
  book: AddressBook,
  dialing: ReadonlySet<string>,
  now: number,
): void {
  // Dials no longer take connection slots (DialBudget): rotate only when connections fill them.
  if (peers.size < maxPeers) return;
  const skip = new Set([...peers.keys(), ...dialing]);
  const keys = peersToRotate(
    {
      peers: [...peers.values()].map((peer) => ({
        key: peer.key,
        lastUsefulAt: lastUsefulAt(peer),
        weAreInterested: peer.connection.amInterested,
        peerInterested: peer.connection.peerInterested,
        busy: peer.requests.size > 0 || peer.uploadQueue.length > 0 || peer.uploading,
      })),
      maxPeers,
      dialing: 0,
      untried: book.untried(skip),
    },
    now,
  );
  for (const key of keys) peers.get(key)?.connection.close('rotated out: useless while untried peers wait');
}
