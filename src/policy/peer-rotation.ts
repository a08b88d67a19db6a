/** What peer rotation needs to know of one connected peer. */
export interface RotationPeer {
  key: string;
  /** When it connected or last sent us a block, whichever is later (ms, the caller's clock). */
  lastUsefulAt: number;
  /** We want something it has. */
  weAreInterested: boolean;
  /** It wants something we have. */
  peerInterested: boolean;
  /** Blocks in flight either way: our requests to it, or its requests queued with us. */
  busy: boolean;
}

export interface RotationState {
  peers: readonly RotationPeer[];
  /** The connection limit. */
  maxPeers: number;
  /** Dials in progress (they take slots too). */
  dialing: number;
  /** Addresses never tried yet that could be dialled now. */
  untried: number;
}

export interface PeerRotationOptions {
  /** A peer is judged only after this long without a block (and at least this long connected). @default 3000 */
  graceMs?: number;
  /** Most peers closed per call (the session calls once a second). @default max(1, ceil(maxPeers / 2)) */
  maxPerRound?: number;
}

/**
 * Defaults of PeerRotationOptions. Rotation acts only while useless peers keep untried addresses
 * out, so the grace is short: 3 s is ample for an honest peer's bitfield, and each generation of
 * zombies costs about that (200 zombies behind 50 slots were 43 s with a 10 s grace and a fifth
 * of the slots per round).
 */
export const ROTATION_GRACE_MS = 3_000;

/**
 * Peer rotation (issue 15, "zombie peers hold every slot"): which connections to close to make
 * room for addresses never tried. Like libtorrent's peer turnover and Transmission's idle
 * culling, it acts only when every slot is taken and untried addresses wait, and it closes
 * only useless peers: neither side is interested, no blocks are in flight either way, and the
 * peer has sent us no block for `graceMs` (counted from the connection, so a new peer has time
 * to send its bitfield). A peer we download from or upload to is never chosen, and keep-alives
 * do not count as use. At most `maxPerRound` per call, idlest first, and never more than there
 * are untried addresses waiting, so a swarm of only useless peers is not churned for nothing.
 * Pure: state in, keys out; `now` is the caller's clock.
 */
export function peersToRotate(
  state: RotationState,
  now: number,
  options: PeerRotationOptions = {},
): string[] {
  if (state.untried <= 0 || state.peers.length + state.dialing < state.maxPeers) return [];
  const grace = options.graceMs ?? ROTATION_GRACE_MS;
  const perRound = options.maxPerRound ?? Math.max(1, Math.ceil(state.maxPeers / 2));
  const useless = state.peers.filter(
    (peer) => !peer.weAreInterested && !peer.peerInterested && !peer.busy && now - peer.lastUsefulAt >= grace,
  );
  useless.sort((a, b) => a.lastUsefulAt - b.lastUsefulAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return useless.slice(0, Math.min(perRound, state.untried)).map((peer) => peer.key);
}
