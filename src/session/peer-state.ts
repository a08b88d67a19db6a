import { Bitfield } from '../bitfield.js';
import type { TorrentMetadata } from '../metainfo/types.js';
import type { PeerConnection } from '../peer/peer-connection.js';

const BLOCKS_PER_PIECE_KEY = 4_194_304;
const BLOCK = 16_384;

export function blockKey(index: number, begin: number): number {
  // One number per block: pieces have at most 2^22 blocks of 16 KiB (far above
  // the 256 MiB piece length limit), so the key is unique and exact in a double.
  return index * BLOCKS_PER_PIECE_KEY + begin / BLOCK;
}

export function blockIndexOf(key: number): number {
  return Math.floor(key / BLOCKS_PER_PIECE_KEY);
}

export function blockBeginOf(key: number): number {
  return (key % BLOCKS_PER_PIECE_KEY) * BLOCK;
}

/** Length of the block we request at `begin` of piece `index` (16 KiB but at a piece's end). */
export function requestedBlockLength(meta: TorrentMetadata, index: number, begin: number): number {
  const pieceLength = index === meta.pieceCount - 1 ? meta.lastPieceLength : meta.pieceLength;
  return Math.min(BLOCK, pieceLength - begin);
}

/** What the session knows of one connected peer beyond the wire flow state. */
export class PeerState {
  readonly connection: PeerConnection;
  has: Bitfield;
  /** Pieces the peer has that we still need: interest without rescanning the bitfield. */
  usefulPieces = 0;
  /**
   * Blocks requested from this peer: block key → when it was sent (ms). A
   * number rather than a record per request: at hundreds in flight per peer,
   * records outlive young-generation collections and pile up in old space.
   */
  readonly requests = new Map<number, number>();
  /** Peer's advertised request queue limit (BEP 10 `reqq`). */
  maxRequests = 250;
  /** Blocks the peer asked of us, served in order. */
  readonly uploadQueue: { index: number; begin: number; length: number }[] = [];
  uploading = false;
  lastPieceAt = Date.now();
  connectedAt = Date.now();
  hashFailures = 0;
  protocolStrikes = 0;
  snubbed = false;
  clientName: string | undefined;
  /** Extension ids the peer assigned (BEP 10 `m`), by extension name. */
  readonly extensionIds = new Map<string, number>();

  constructor(connection: PeerConnection, pieceCount: number) {
    this.connection = connection;
    this.has = new Bitfield(pieceCount);
  }

  get key(): string {
    return this.connection.key;
  }

  get isSeed(): boolean {
    return this.has.complete;
  }
}
