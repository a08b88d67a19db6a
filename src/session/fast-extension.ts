import { addressBytes } from '../address.js';
import { Bitfield } from '../bitfield.js';
import { pieceLength } from '../metainfo/piece-map.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import {
  ALLOWED_FAST_PEER_PIECE_LIMIT,
  ALLOWED_FAST_SET_SIZE,
  allowedFastSet,
} from '../policy/allowed-fast.js';
import { BLOCK_SIZE } from '../wire/index.js';
import type { Message } from '../wire/types.js';
import type { Downloader } from './downloader.js';
import { BlockKeys, type PeerState, requestedBlockLength } from './peer-state.js';

/**
 * Allowed-fast pieces we remember per peer; the rest are ignored. The peer decides how many it
 * sends, so the set must be bounded (BEP 6 suggests 10; libtorrent sends 5 by default).
 */
export const MAX_ALLOWED_FAST_IN = 64;
/**
 * Rejects for requests we never made (or no longer have outstanding), beyond those our cancels
 * explain (BEP 6 answers a cancel with a reject or the block), tolerated before the peer is dropped.
 */
export const UNREQUESTED_REJECT_ALLOWANCE = 32;

type FastMessage = Extract<
  Message,
  { type: 'have-all' | 'have-none' | 'reject' | 'allowed-fast' | 'suggest' }
>;

/** Whether `message` is one of the five messages BEP 6 adds. */
export function isFastMessage(message: Message): message is FastMessage {
  switch (message.type) {
    case 'have-all':
    case 'have-none':
    case 'reject':
    case 'allowed-fast':
    case 'suggest':
      return true;
    default:
      return false;
  }
}

export type Strike = (peer: PeerState, reason: string, severe: boolean) => void;

/**
 * The BEP 6 fast extension for one session's peers: our availability as have-all / have-none,
 * the allowed-fast pieces we offer newcomers, and the peer's have-all, have-none, reject,
 * allowed-fast and suggest messages. The serving side (rejects of requests we will not serve,
 * allowed-fast pieces served while choked) is the Uploader's; pending requests surviving a choke
 * are the Downloader's. `suggest` is validated but not used as a hint by the picker.
 */
export class FastExtension {
  readonly #meta: TorrentMetadata;
  readonly #downloader: Downloader;
  readonly #strike: Strike;
  readonly #keys: BlockKeys;

  constructor(meta: TorrentMetadata, downloader: Downloader, strike: Strike) {
    this.#meta = meta;
    this.#downloader = downloader;
    this.#strike = strike;
    this.#keys = new BlockKeys(meta);
  }

  /**
   * Our availability after the handshake: to a fast peer have-all when we have every piece and
   * have-none when we have none (BEP 6 requires one of the three), else the bitfield; to a
   * BEP 3 peer the bitfield, or nothing when we have nothing.
   */
  sendAvailability(peer: PeerState): void {
    const have = this.#downloader.have;
    if (peer.fast && have.complete) peer.connection.send({ type: 'have-all' });
    else if (peer.fast && have.empty) peer.connection.send({ type: 'have-none' });
    else if (!have.empty) peer.connection.send({ type: 'bitfield', bits: have.bytes });
  }

  /**
   * Once a fast peer's availability is known: a peer with fewer pieces than the limit is offered
   * the pieces of its canonical allowed-fast set that we have and it lacks, once per connection.
   */
  offerAllowedFast(peer: PeerState): void {
    if (!peer.fast || peer.allowedFastOut.size > 0 || peer.has.count >= ALLOWED_FAST_PEER_PIECE_LIMIT) return;
    const ip = addressBytes(peer.connection.address.host);
    if (ip === undefined) return;
    const have = this.#downloader.have;
    const set = allowedFastSet(ip, this.#meta.infoHash, this.#meta.pieceCount, ALLOWED_FAST_SET_SIZE);
    for (const index of set) {
      if (!have.has(index) || peer.has.has(index)) continue;
      peer.allowedFastOut.add(index);
      peer.connection.send({ type: 'allowed-fast', index });
    }
  }

  /** A BEP 6 message from `peer`; from a peer that did not negotiate the extension it drops it. */
  onMessage(peer: PeerState, message: FastMessage): void {
    if (!peer.fast) {
      // BEP 6: a peer that receives these without both bits set must close the connection.
      this.#strike(peer, `${message.type} without the fast extension`, true);
      return;
    }
    const pieceCount = this.#meta.pieceCount;
    switch (message.type) {
      case 'have-all':
        this.#downloader.onBitfield(peer, Bitfield.full(pieceCount));
        this.offerAllowedFast(peer);
        return;
      case 'have-none':
        this.#downloader.onBitfield(peer, new Bitfield(pieceCount));
        this.offerAllowedFast(peer);
        return;
      case 'reject':
        this.#onReject(peer, message.index, message.begin, message.length);
        return;
      case 'allowed-fast':
        if (message.index >= pieceCount) {
          this.#strike(peer, 'allowed-fast for a piece out of range', true);
          return;
        }
        if (peer.allowedFastIn.size >= MAX_ALLOWED_FAST_IN) return;
        peer.allowedFastIn.add(message.index);
        if (peer.connection.peerChoking) this.#downloader.fill(peer);
        return;
      case 'suggest':
        // Valid, but not (yet) a hint to the picker: rarest first stays the order.
        if (message.index >= pieceCount) this.#strike(peer, 'suggest for a piece out of range', true);
        return;
    }
  }

  /**
   * A reject for one of our outstanding requests releases its block; one for a request we never
   * made (or no longer have outstanding beyond what our cancels explain) counts, and past an
   * allowance drops the peer.
   */
  #onReject(peer: PeerState, index: number, begin: number, length: number): void {
    const meta = this.#meta;
    const pieceSize = index < meta.pieceCount ? pieceLength(meta, index) : 0;
    if (
      begin % BLOCK_SIZE === 0 &&
      begin < pieceSize &&
      peer.requests.has(this.#keys.of(index, begin)) &&
      requestedBlockLength(meta, index, begin) === length
    ) {
      this.#downloader.onReject(peer, index, begin);
      return;
    }
    peer.unrequestedRejects++;
    if (peer.unrequestedRejects > UNREQUESTED_REJECT_ALLOWANCE + peer.connection.cancelsSent) {
      this.#strike(peer, `sent ${peer.unrequestedRejects} rejects for requests we never made`, true);
    }
  }
}
