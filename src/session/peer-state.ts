import { Bitfield } from '../bitfield.js';
import type { PeerConnection } from '../peer/peer-connection.js';

export interface OutstandingRequest {
  index: number;
  begin: number;
  length: number;
  sentAt: number;
}

export function blockKey(index: number, begin: number): number {
  // One number per block: pieces have at most 2^22 blocks of 16 KiB (far above
  // the 256 MiB piece length limit), so the key is unique and exact in a double.
  return index * 4_194_304 + begin / 16_384;
}

/** What the session knows of one connected peer beyond the wire flow state. */
export class PeerState {
  readonly connection: PeerConnection;
  has: Bitfield;
  /** Pieces the peer has that we still need: interest without rescanning the bitfield. */
  usefulPieces = 0;
  readonly requests = new Map<number, OutstandingRequest>();
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
