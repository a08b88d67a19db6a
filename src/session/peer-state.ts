import { Bitfield } from '../bitfield.js';
import { pieceLength } from '../metainfo/piece-map.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import { NumberMap } from '../number-map.js';
import type { PeerConnection } from '../peer/peer-connection.js';
import { BLOCK_SIZE as BLOCK } from '../wire/types.js';

/**
 * One small integer per block of a torrent: piece × blocks-per-piece + block.
 * Below 2^30 blocks (16 TiB) that is a V8 small integer, so keying a map by
 * it allocates nothing (a request record per block would otherwise be heap
 * numbers that outlive young-generation collections). Only meaningful for a
 * `begin` on the 16 KiB grid inside the piece: check that first.
 */
export class BlockKeys {
  readonly #perPiece: number;

  constructor(meta: Pick<TorrentMetadata, 'pieceLength'>) {
    this.#perPiece = Math.ceil(meta.pieceLength / BLOCK);
  }

  of(index: number, begin: number): number {
    return index * this.#perPiece + begin / BLOCK;
  }

  indexOf(key: number): number {
    return Math.floor(key / this.#perPiece);
  }

  beginOf(key: number): number {
    return (key % this.#perPiece) * BLOCK;
  }
}

/** Length of the block we request at `begin` of piece `index` (16 KiB but at a piece's end). */
export function requestedBlockLength(meta: TorrentMetadata, index: number, begin: number): number {
  return Math.min(BLOCK, pieceLength(meta, index) - begin);
}

/** What the session knows of one connected peer beyond the wire flow state. */
export class PeerState {
  readonly connection: PeerConnection;
  has: Bitfield;
  /**
   * Pieces the peer has that we still need: interest without rescanning the bitfield. Not
   * lowered per verified piece while the peer is a seed (the Downloader does not visit seeds
   * then): for a seed it only says "above 0 until we are complete".
   */
  usefulPieces = 0;
  /**
   * Blocks requested from this peer: block key (BlockKeys) → when it was sent
   * (ms since the downloader started). Small integers both, rather than a
   * record per request: at hundreds in flight per peer, records outlive
   * young-generation collections and pile up in old space. A NumberMap, not
   * a Map: a set and a delete per block would keep reallocating a Map's
   * backing store in old space (see NumberMap).
   */
  readonly requests = new NumberMap(64);
  /** Peer's advertised request queue limit (BEP 10 `reqq`). */
  maxRequests = 250;
  /** Blocks the peer asked of us, served in order. */
  readonly uploadQueue: { index: number; begin: number; length: number }[] = [];
  uploading = false;
  /**
   * When the peer last sent a requested block, or (if later) when we began
   * waiting for one: the snub clock (the Downloader's `now`).
   */
  lastPieceAt: number;
  connectedAt: number;
  hashFailures = 0;
  /** Verified pieces it helped fill minus twice the failed ones (capped; see the Downloader). */
  trust = 0;
  protocolStrikes = 0;
  /** Blocks it sent that we had not (or no longer) requested. */
  unrequestedBlocks = 0;
  /** Of those, how many our own doing explains: requests outstanding when it choked us. */
  excusedBlocks = 0;
  snubbed = false;
  /** Both ends set the BEP 6 reserved bit: the fast extension's messages and rules apply. */
  fast = false;
  /** Pieces we told the peer it may request while choked (BEP 6 allowed fast), served then. */
  readonly allowedFastOut = new Set<number>();
  /** Pieces the peer allows us to request while it chokes us (bounded: see SessionPeerHandler). */
  readonly allowedFastIn = new Set<number>();
  /** Rejects it sent for blocks we had not (or no longer) requested. */
  unrequestedRejects = 0;
  clientName: string | undefined;
  /** Extension ids the peer assigned (BEP 10 `m`), by extension name. */
  readonly extensionIds = new Map<string, number>();

  /** `now`: the same clock as the Downloader's. */
  constructor(connection: PeerConnection, pieceCount: number, now: () => number = Date.now) {
    this.connection = connection;
    this.has = new Bitfield(pieceCount);
    this.connectedAt = now();
    this.lastPieceAt = this.connectedAt;
  }

  get key(): string {
    return this.connection.key;
  }

  get isSeed(): boolean {
    return this.has.complete;
  }
}
