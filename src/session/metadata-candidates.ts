import { MAX_METADATA_SIZE } from '../wire/index.js';
import { MetadataAssembly, type MetadataReceiveResult } from './metadata-assembly.js';

/** Metadata sizes assembled at once; the other claimed sizes wait until a candidate fails. */
export const MAX_METADATA_CANDIDATES = 2;

/**
 * The most metadata block data a fetch ever holds: 2 candidate sizes × 8 MiB = 16 MiB.
 * A candidate's buffer (its size) is allocated when its first block is requested; blocks
 * are stored only when we asked that peer for them. A waiting size costs nothing.
 * Besides it, each assembly keeps a few small per-block records (at most 512 blocks):
 * state, and after a failed mixed attempt one 20-byte SHA-1 per block for naming liars.
 */
export const METADATA_ASSEMBLY_BYTES_LIMIT = MAX_METADATA_CANDIDATES * MAX_METADATA_SIZE;

/** What the fetcher holds for metadata assembly (`MetadataFetcher.memory`). */
export interface MetadataMemoryStats {
  /** Sizes being assembled now (at most MAX_METADATA_CANDIDATES). */
  candidateSizes: number[];
  /** Other sizes claimed by connected peers, waiting for a free candidate slot. */
  waitingSizes: number;
  /** Bytes allocated for assembling metadata now (a candidate's buffer exists once we ask for a block). */
  assemblyBytes: number;
  /** The most such bytes at any moment of this fetch (≤ METADATA_ASSEMBLY_BYTES_LIMIT). */
  peakAssemblyBytes: number;
}

/**
 * Which claimed metadata sizes are assembled. Peers that disagree on the size cannot mix
 * blocks, so each size has its own assembly, but only for at most two sizes at a time:
 * the size offered by the most connected peers first (the earliest seen on a tie). A size
 * stops being a candidate, and its blocks are freed, when no connected peer offers it any
 * more (its peers were dropped as liars, silent or empty-handed); the next size then takes
 * its place. Pure bookkeeping, no sockets.
 */
export class MetadataCandidates {
  readonly #infoHash: Buffer;
  readonly #now: () => number;
  readonly #max: number;
  /** Size → connected peers offering it; insertion order is first-seen order. */
  readonly #claims = new Map<number, Set<string>>();
  readonly #assemblies = new Map<number, MetadataAssembly>();
  /** Buffers lent to candidates (by size) and one kept from a failed candidate: at most `max` in all. */
  readonly #lent = new Map<number, Buffer>();
  #spare: Buffer | undefined;
  #peakBytes = 0;

  constructor(infoHash: Buffer, now: () => number, maxCandidates = MAX_METADATA_CANDIDATES) {
    this.#infoHash = infoHash;
    this.#now = now;
    this.#max = maxCandidates;
  }

  /** The assembly for `size` if it is a candidate now. */
  assembly(size: number): MetadataAssembly | undefined {
    return this.#assemblies.get(size);
  }

  assemblies(): IterableIterator<MetadataAssembly> {
    return this.#assemblies.values();
  }

  /** `peer` offers metadata of `size` (already validated). Returns true if a new candidate started. */
  claim(peer: string, size: number): boolean {
    let set = this.#claims.get(size);
    if (!set) {
      set = new Set();
      this.#claims.set(size, set);
    }
    set.add(peer);
    return this.#promote();
  }

  /** `peer` went away. Returns true if a new candidate started in a freed slot. */
  release(peer: string, size: number): boolean {
    const set = this.#claims.get(size);
    if (!set?.delete(peer)) return false;
    this.#assemblies.get(size)?.peerGone(peer);
    if (set.size > 0) return false;
    this.#claims.delete(size);
    this.#assemblies.delete(size);
    const buffer = this.#lent.get(size);
    this.#lent.delete(size);
    // Kept for the next candidate: a flood of failing sizes reuses it instead of churning 8 MiB each.
    if (buffer && (!this.#spare || buffer.length > this.#spare.length)) this.#spare = buffer;
    return this.#promote();
  }

  /** Blocks to ask of `peer` (none while its size waits); allocates the size's buffer on first use. */
  nextRequests(peer: string, size: number, limit: number): number[] {
    const pieces = this.#assemblies.get(size)?.nextRequests(peer, limit) ?? [];
    if (pieces.length > 0) this.#peakBytes = Math.max(this.#peakBytes, this.#bytes());
    return pieces;
  }

  /** Stores a block through the size's assembly; a size that is not a candidate requested nothing. */
  receive(peer: string, size: number, piece: number, data: Uint8Array): MetadataReceiveResult {
    const assembly = this.#assemblies.get(size);
    if (!assembly) return 'unrequested';
    return assembly.receive(peer, piece, data);
  }

  get stats(): MetadataMemoryStats {
    return {
      candidateSizes: [...this.#assemblies.keys()],
      waitingSizes: this.#claims.size - this.#assemblies.size,
      assemblyBytes: this.#bytes(),
      peakAssemblyBytes: this.#peakBytes,
    };
  }

  #bytes(): number {
    let total = this.#spare?.length ?? 0;
    for (const buffer of this.#lent.values()) total += buffer.length;
    return total;
  }

  /** A candidate's first request: the spare buffer if big enough, else a new one (the spare is let go first). */
  #allocate(size: number): Buffer {
    let buffer: Buffer;
    if (this.#spare && this.#spare.length >= size) buffer = this.#spare;
    else buffer = Buffer.alloc(size);
    this.#spare = undefined;
    this.#lent.set(size, buffer);
    return buffer.subarray(0, size);
  }

  #promote(): boolean {
    let started = false;
    while (this.#assemblies.size < this.#max) {
      let best: number | undefined;
      let bestCount = 0;
      for (const [size, peers] of this.#claims) {
        if (this.#assemblies.has(size)) continue;
        if (peers.size > bestCount) {
          best = size;
          bestCount = peers.size;
        }
      }
      if (best === undefined) break;
      const assembly = new MetadataAssembly(this.#infoHash, best, this.#now, (n) => this.#allocate(n));
      this.#assemblies.set(best, assembly);
      started = true;
    }
    return started;
  }
}
