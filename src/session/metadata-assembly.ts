import { createHash } from 'node:crypto';
import { expectedMetadataBlockLength, METADATA_BLOCK_SIZE, metadataPieceCount } from '../wire/index.js';

type BlockState =
  | { state: 'missing' }
  | { state: 'requested'; peer: string; at: number }
  | { state: 'received'; data: Uint8Array; peer: string };

export type MetadataVerdict =
  | { kind: 'incomplete' }
  | { kind: 'valid'; info: Buffer }
  | { kind: 'invalid'; contributors: string[] };

/**
 * BEP 9 block bookkeeping for one metadata size, with no sockets: which
 * 16 KiB block to ask of which peer, timeouts, rejects, and the final SHA-1
 * check against the info-hash. After a failed check the next attempts take
 * every block from a single peer, so a liar is identified and excluded
 * instead of poisoning every later attempt.
 */
export class MetadataAssembly {
  readonly size: number;
  readonly #infoHash: Buffer;
  readonly #blocks: BlockState[];
  readonly #rejected = new Map<string, Set<number>>();
  readonly #suspects = new Set<string>();
  readonly #now: () => number;
  /** Set after a failed check: only this peer is asked during the current attempt. */
  #soloPeer: string | undefined;
  #failedAttempts = 0;

  constructor(infoHash: Buffer, size: number, now: () => number = Date.now) {
    this.#infoHash = infoHash;
    this.size = size;
    this.#now = now;
    this.#blocks = Array.from(
      { length: metadataPieceCount(size) },
      () => ({ state: 'missing' }) as BlockState,
    );
  }

  get blockCount(): number {
    return this.#blocks.length;
  }

  get receivedCount(): number {
    return this.#blocks.filter((b) => b.state === 'received').length;
  }

  get failedAttempts(): number {
    return this.#failedAttempts;
  }

  isSuspect(peer: string): boolean {
    return this.#suspects.has(peer);
  }

  /** Blocks to request from `peer` now, at most `limit` in flight for it. */
  nextRequests(peer: string, limit: number, timeoutMs: number): number[] {
    if (this.#suspects.has(peer)) return [];
    if (this.#failedAttempts > 0) {
      if (this.#soloPeer === undefined) this.#soloPeer = peer;
      if (this.#soloPeer !== peer) return [];
    }
    const now = this.#now();
    const rejected = this.#rejected.get(peer);
    let inFlight = 0;
    for (const block of this.#blocks) if (block.state === 'requested' && block.peer === peer) inFlight++;
    const out: number[] = [];
    for (let piece = 0; piece < this.#blocks.length && inFlight + out.length < limit; piece++) {
      const block = this.#blocks[piece]!;
      if (rejected?.has(piece)) continue;
      const stale = block.state === 'requested' && now - block.at > timeoutMs;
      if (block.state === 'missing' || stale) {
        this.#blocks[piece] = { state: 'requested', peer, at: now };
        out.push(piece);
      }
    }
    return out;
  }

  /** Stores a block; returns false when its piece number or length is wrong (a protocol violation). */
  receive(peer: string, piece: number, data: Uint8Array): boolean {
    if (piece < 0 || piece >= this.#blocks.length) return false;
    if (data.length !== expectedMetadataBlockLength(this.size, piece)) return false;
    const block = this.#blocks[piece]!;
    if (block.state === 'received') return true;
    this.#blocks[piece] = { state: 'received', data: Uint8Array.from(data), peer };
    return true;
  }

  reject(peer: string, piece: number): void {
    let set = this.#rejected.get(peer);
    if (!set) {
      set = new Set();
      this.#rejected.set(peer, set);
    }
    set.add(piece);
    const block = this.#blocks[piece];
    if (block?.state === 'requested' && block.peer === peer) this.#blocks[piece] = { state: 'missing' };
    if (this.#soloPeer === peer) this.#soloPeer = undefined;
  }

  /** The peer went away: its outstanding blocks go back to the pool. */
  peerGone(peer: string): void {
    for (let piece = 0; piece < this.#blocks.length; piece++) {
      const block = this.#blocks[piece]!;
      if (block.state === 'requested' && block.peer === peer) this.#blocks[piece] = { state: 'missing' };
    }
    if (this.#soloPeer === peer) this.#soloPeer = undefined;
  }

  /** Checks the assembled metadata once every block is in. */
  verdict(): MetadataVerdict {
    if (this.#blocks.some((b) => b.state !== 'received')) return { kind: 'incomplete' };
    const parts = this.#blocks.map((b) => (b as { data: Uint8Array }).data);
    const info = Buffer.concat(parts, this.size);
    if (createHash('sha1').update(info).digest().equals(this.#infoHash)) return { kind: 'valid', info };
    const contributors = [...new Set(this.#blocks.map((b) => (b as { peer: string }).peer))];
    // A single-source failure is proof; a mixed one only switches us to single-source attempts.
    if (contributors.length === 1) this.#suspects.add(contributors[0]!);
    this.#failedAttempts++;
    this.#soloPeer = undefined;
    for (let piece = 0; piece < this.#blocks.length; piece++) this.#blocks[piece] = { state: 'missing' };
    return { kind: 'invalid', contributors };
  }
}

export { METADATA_BLOCK_SIZE };
