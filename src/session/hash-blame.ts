import { createHash } from 'node:crypto';

/** Pieces watched at once after a failure: bounds what a stream of failures can cost. */
const MAX_WATCHED_PIECES = 256;
/** Versions of one block remembered (one per sender). */
const MAX_SENDERS_PER_BLOCK = 8;
/**
 * What one record (one sender's version of one block) costs, counted
 * generously: the SHA-1 Buffer (20 bytes plus its object), the version
 * object and its Map entry.
 */
export const HASH_BLAME_RECORD_BYTES = 160;
/** Default byte bound of all records: 2 MiB, ~13 000 records (e.g. 12 watched 16 MiB pieces, one sender per block). */
export const HASH_BLAME_BYTES = 2 * 1024 * 1024;

export interface HashBlameOptions {
  /** Bytes all records may take (counted at HASH_BLAME_RECORD_BYTES each). @default 2 MiB */
  maxBytes?: number;
}

interface BlockVersion {
  length: number;
  sha1: Buffer;
}

/**
 * libtorrent's "smart ban": finds who lied in a piece that several peers
 * filled. Blaming every contributor alike would get an honest peer that
 * shares pieces with a liar banned as fast as the liar (the picker finishes
 * started pieces with whoever is free). Instead a failed piece is watched:
 * the SHA-1 of each block received for it is kept per sender, and once the
 * piece passes, whoever sent a block that differs from the verified data is
 * a proven liar. The cost is nil until a piece fails.
 */
export class HashBlame {
  /** Watched piece → block offset → sender → what it sent. */
  readonly #watched = new Map<number, Map<number, Map<string, BlockVersion>>>();
  /** Records kept per watched piece, and in total. */
  readonly #recordsOf = new Map<number, number>();
  #records = 0;
  readonly #maxRecords: number;

  constructor(options: HashBlameOptions = {}) {
    this.#maxRecords = Math.floor(
      Math.max(0, options.maxBytes ?? HASH_BLAME_BYTES) / HASH_BLAME_RECORD_BYTES,
    );
  }

  /** Bytes the records take, as counted against `maxBytes`. */
  get bytes(): number {
    return this.#records * HASH_BLAME_RECORD_BYTES;
  }

  /** A piece failed its hash check: watch the blocks it receives from now on. */
  pieceFailed(index: number): void {
    if (this.#watched.has(index)) return;
    if (this.#watched.size >= MAX_WATCHED_PIECES) {
      const oldest = this.#watched.keys().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
    this.#watched.set(index, new Map());
    this.#recordsOf.set(index, 0);
  }

  isWatched(index: number): boolean {
    return this.#watched.has(index);
  }

  /**
   * A requested block arrived; `block` is only read during the call. Returns
   * true when `peer` sent this block of a watched piece before with other
   * bytes: a block's content is fixed by the torrent, so a peer that
   * contradicts itself lied at least once (no need to wait for the piece to pass,
   * which a fast liar in endgame can prevent forever).
   */
  blockReceived(peer: string, index: number, begin: number, block: Uint8Array): boolean {
    const blocks = this.#watched.get(index);
    if (!blocks) return false;
    let senders = blocks.get(begin);
    if (!senders) {
      senders = new Map();
      blocks.set(begin, senders);
    }
    const before = senders.get(peer);
    if (!before) {
      if (senders.size >= MAX_SENDERS_PER_BLOCK) return false;
      // A new record: make room in bytes by forgetting the oldest other watched pieces; if this
      // piece alone fills the budget, it records no more (its liars may then go unnamed).
      while (this.#records >= this.#maxRecords) {
        const oldest = this.#watched.keys().next().value;
        if (oldest === undefined || oldest === index) return false;
        this.#forget(oldest);
      }
      this.#records++;
      this.#recordsOf.set(index, (this.#recordsOf.get(index) ?? 0) + 1);
    }
    const version = { length: block.length, sha1: createHash('sha1').update(block).digest() };
    senders.set(peer, version);
    return before !== undefined && (before.length !== version.length || !before.sha1.equals(version.sha1));
  }

  /**
   * A watched piece passed its hash check; `piece` is its verified data.
   * Returns the peers that sent a version of one of its blocks that differs.
   */
  pieceVerified(index: number, piece: Uint8Array): string[] {
    const blocks = this.#watched.get(index);
    this.#forget(index);
    if (!blocks) return [];
    const liars = new Set<string>();
    for (const [begin, senders] of blocks) {
      const truth = new Map<number, Buffer>();
      for (const [peer, version] of senders) {
        let expected = truth.get(version.length);
        if (!expected) {
          expected = createHash('sha1')
            .update(piece.subarray(begin, begin + version.length))
            .digest();
          truth.set(version.length, expected);
        }
        if (!expected.equals(version.sha1)) liars.add(peer);
      }
    }
    return [...liars];
  }

  #forget(index: number): void {
    this.#watched.delete(index);
    this.#records -= this.#recordsOf.get(index) ?? 0;
    this.#recordsOf.delete(index);
  }
}
