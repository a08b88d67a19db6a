import { createHash } from 'node:crypto';
import { expectedMetadataBlockLength, METADATA_BLOCK_SIZE, metadataPieceCount } from '../wire/index.js';

type BlockState =
  | { state: 'missing' }
  | { state: 'requested'; peer: string; at: number }
  | { state: 'received'; peer: string };

export type MetadataVerdict =
  | { kind: 'incomplete' }
  /** `liars`: peers whose blocks in an earlier, failed attempt differ from the verified metadata. */
  | { kind: 'valid'; info: Buffer; liars: Array<{ peer: string; piece: number }> }
  /** `proven`: the one peer that supplied every block of this attempt, now a suspect. */
  | { kind: 'invalid'; contributors: string[]; proven: string | undefined };

/**
 * What `receive` did with a block: `stored`; `unrequested` (we did not ask this peer for
 * this block, or it already answered it: nothing is stored); `invalid` (piece number or
 * length wrong for this size). Both refusals are protocol violations.
 */
export type MetadataReceiveResult = 'stored' | 'unrequested' | 'invalid';

/**
 * BEP 9 block bookkeeping for one metadata size, with no sockets: which
 * 16 KiB block to ask of which peer, timeouts, rejects, and the final SHA-1
 * check against the info-hash. After a failed check the next attempts take
 * every block from a single peer, so a liar is identified and excluded
 * instead of poisoning every later attempt. A solo peer that stops answering
 * is timed out (`expire`) and the next attempt goes to another peer; when a
 * later attempt verifies, the blocks of the failed mixed attempt are compared
 * with the real ones, so a liar is named even if the honest peer won the race.
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
  /** Per peer, when it last answered a request (block or reject), for `expire`. */
  readonly #lastAnswerAt = new Map<string, number>();
  /**
   * SHA-1 of each block of the failed mixed attempt and who sent it (20 bytes per block, at
   * most 512 blocks: about 40 KiB with the peer keys). Only the first failed mixed attempt
   * is kept, so it never grows.
   */
  #failedBlocks: Array<{ peer: string; digest: Buffer }> | undefined;
  /**
   * The metadata being assembled: `size` bytes, allocated when the first block is requested
   * (a size nobody is asked for costs nothing) and reused by later attempts.
   */
  #buffer: Buffer | undefined;

  readonly #allocate: (size: number) => Buffer;

  /** `allocate` gives the buffer of `size` bytes, when the first block is requested (a pool may reuse one). */
  constructor(
    infoHash: Buffer,
    size: number,
    now: () => number = Date.now,
    allocate: (size: number) => Buffer = (n) => Buffer.alloc(n),
  ) {
    this.#infoHash = infoHash;
    this.#allocate = allocate;
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

  /** Bytes allocated for block data: 0 until a block is requested, then `size`. */
  get allocatedBytes(): number {
    return this.#buffer?.length ?? 0;
  }

  get failedAttempts(): number {
    return this.#failedAttempts;
  }

  isSuspect(peer: string): boolean {
    return this.#suspects.has(peer);
  }

  /**
   * Blocks to request from `peer` now, at most `limit` in flight for it. After a failed
   * check only one peer at a time (the solo peer) is asked, and only a peer that has
   * rejected none of our requests can be it (a solo attempt needs every block).
   */
  nextRequests(peer: string, limit: number): number[] {
    if (this.#suspects.has(peer)) return [];
    const rejected = this.#rejected.get(peer);
    if (this.#failedAttempts > 0) {
      if (this.#soloPeer === undefined && !rejected?.size) this.#soloPeer = peer;
      if (this.#soloPeer !== peer) return [];
    }
    const now = this.#now();
    let inFlight = 0;
    for (const block of this.#blocks) if (block.state === 'requested' && block.peer === peer) inFlight++;
    const out: number[] = [];
    for (let piece = 0; piece < this.#blocks.length && inFlight + out.length < limit; piece++) {
      if (rejected?.has(piece) || this.#blocks[piece]!.state !== 'missing') continue;
      this.#blocks[piece] = { state: 'requested', peer, at: now };
      out.push(piece);
    }
    if (out.length > 0) this.#buffer ??= this.#allocate(this.size);
    return out;
  }

  /**
   * Peers with requests in flight that have answered nothing for `timeoutMs` (counted from
   * the later of their oldest open request and their last answer). Their blocks go back to
   * the pool and a solo peer among them loses its turn; the caller should drop them.
   */
  expire(timeoutMs: number): string[] {
    const now = this.#now();
    const oldest = new Map<string, number>();
    for (const block of this.#blocks) {
      if (block.state !== 'requested') continue;
      oldest.set(block.peer, Math.min(oldest.get(block.peer) ?? block.at, block.at));
    }
    const stalled: string[] = [];
    for (const [peer, at] of oldest) {
      if (now - Math.max(at, this.#lastAnswerAt.get(peer) ?? at) >= timeoutMs) stalled.push(peer);
    }
    for (const peer of stalled) this.peerGone(peer);
    return stalled;
  }

  /** False when `peer` can give nothing more: a suspect, or it rejected every block still needed. */
  canServe(peer: string): boolean {
    if (this.#suspects.has(peer)) return false;
    const rejected = this.#rejected.get(peer);
    if (!rejected) return true;
    for (let piece = 0; piece < this.#blocks.length; piece++) {
      if (this.#blocks[piece]!.state !== 'received' && !rejected.has(piece)) return true;
    }
    return false;
  }

  /**
   * Stores a block we asked `peer` for. A block that is not in flight from `peer` (never
   * asked, asked of another peer, already answered) is refused before anything is copied,
   * so a peer cannot make us hold data we did not request.
   */
  receive(peer: string, piece: number, data: Uint8Array): MetadataReceiveResult {
    if (piece < 0 || piece >= this.#blocks.length) return 'invalid';
    if (data.length !== expectedMetadataBlockLength(this.size, piece)) return 'invalid';
    const block = this.#blocks[piece]!;
    if (block.state !== 'requested' || block.peer !== peer) return 'unrequested';
    this.#lastAnswerAt.set(peer, this.#now());
    this.#buffer!.set(data, piece * METADATA_BLOCK_SIZE);
    this.#blocks[piece] = { state: 'received', peer };
    return 'stored';
  }

  reject(peer: string, piece: number): void {
    if (piece < 0 || piece >= this.#blocks.length) return;
    this.#lastAnswerAt.set(peer, this.#now());
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
    this.#rejected.delete(peer);
    this.#lastAnswerAt.delete(peer);
  }

  /** Checks the assembled metadata once every block is in. */
  verdict(): MetadataVerdict {
    if (this.#blocks.some((b) => b.state !== 'received')) return { kind: 'incomplete' };
    const received = this.#blocks as Array<{ state: 'received'; peer: string }>;
    const info = this.#buffer!;
    if (sha1(info).equals(this.#infoHash)) {
      return { kind: 'valid', info: Buffer.from(info), liars: this.#liarsAgainst(info) };
    }
    const contributors = [...new Set(received.map((b) => b.peer))];
    // A single-source failure is proof; a mixed one only switches us to single-source attempts.
    const proven = contributors.length === 1 ? contributors[0] : undefined;
    if (proven !== undefined) this.#suspects.add(proven);
    else if (this.#failedBlocks === undefined) {
      this.#failedBlocks = received.map((b, piece) => ({ peer: b.peer, digest: sha1(this.#block(piece)) }));
    }
    this.#failedAttempts++;
    this.#soloPeer = undefined;
    for (let piece = 0; piece < this.#blocks.length; piece++) this.#blocks[piece] = { state: 'missing' };
    return { kind: 'invalid', contributors, proven };
  }

  /** Peers not yet suspect (first wrong block each) whose blocks in the failed mixed attempt differ from `real`. */
  #block(piece: number): Buffer {
    return this.#buffer!.subarray(piece * METADATA_BLOCK_SIZE, (piece + 1) * METADATA_BLOCK_SIZE);
  }

  #liarsAgainst(real: Buffer): Array<{ peer: string; piece: number }> {
    const liars = new Map<string, number>();
    this.#failedBlocks?.forEach(({ peer, digest }, piece) => {
      if (liars.has(peer) || this.#suspects.has(peer)) return; // named once
      const block = real.subarray(piece * METADATA_BLOCK_SIZE, (piece + 1) * METADATA_BLOCK_SIZE);
      if (!sha1(block).equals(digest)) liars.set(peer, piece);
    });
    return [...liars].map(([peer, piece]) => ({ peer, piece }));
  }
}

function sha1(data: Uint8Array): Buffer {
  return createHash('sha1').update(data).digest();
}

export { METADATA_BLOCK_SIZE };
