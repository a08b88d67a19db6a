/** Per-block state of a piece being downloaded. */
export const BlockState = {
  None: 0,
  Requested: 1,
  Received: 2,
} as const;

/**
 * Who a block is requested from: one peer id in the common case (stored as
 * the string itself, so a request allocates nothing), an array only when
 * endgame asks a second peer.
 */
export type Requesters = string | string[] | undefined;

/**
 * A piece we started: for each block whether it is unrequested, requested
 * (and from which peers: more than one only in endgame) or received.
 */
export class PartialPiece {
  readonly index: number;
  readonly blockCount: number;
  readonly state: Uint8Array;
  /** Peer ids a block is requested from (undefined unless state is Requested). */
  readonly #requesters: Requesters[];
  received = 0;
  requested = 0;
  /** No block below this is in state None: a scan hint, reset when a block goes back. */
  firstFree = 0;

  constructor(index: number, blockCount: number) {
    this.index = index;
    this.blockCount = blockCount;
    this.state = new Uint8Array(blockCount);
    this.#requesters = new Array(blockCount);
  }

  get unrequested(): number {
    return this.blockCount - this.received - this.requested;
  }

  /** Blocks requested or received: how far along the piece is. */
  get progress(): number {
    return this.received + this.requested;
  }

  requesterCount(block: number): number {
    const requesters = this.#requesters[block];
    return requesters === undefined ? 0 : typeof requesters === 'string' ? 1 : requesters.length;
  }

  isRequestedBy(block: number, peerId: string): boolean {
    const requesters = this.#requesters[block];
    return typeof requesters === 'string' ? requesters === peerId : (requesters?.includes(peerId) ?? false);
  }

  /** Calls `fn` for each (block, requester) pair. */
  forEachRequest(fn: (block: number, peerId: string) => void): void {
    for (let block = 0; block < this.blockCount; block++)
      forEachId(this.#requesters[block], (id) => fn(block, id));
  }

  /** Marks block `block` requested from `peerId`; false if that peer already has it requested. */
  request(block: number, peerId: string): boolean {
    const state = this.state[block];
    if (state === BlockState.Received) return false;
    if (state === BlockState.None) {
      this.state[block] = BlockState.Requested;
      this.#requesters[block] = peerId;
      this.requested++;
      return true;
    }
    if (this.isRequestedBy(block, peerId)) return false;
    const requesters = this.#requesters[block]!;
    if (typeof requesters === 'string') this.#requesters[block] = [requesters, peerId];
    else requesters.push(peerId);
    return true;
  }

  /**
   * Forgets `peerId`'s request for `block`. Returns true when the block went
   * back to None (nobody else asked for it).
   */
  release(block: number, peerId: string): boolean {
    if (this.state[block] !== BlockState.Requested || !this.isRequestedBy(block, peerId)) return false;
    const requesters = this.#requesters[block]!;
    if (typeof requesters !== 'string' && requesters.length > 1) {
      requesters.splice(requesters.indexOf(peerId), 1);
      if (requesters.length === 1) this.#requesters[block] = requesters[0];
      return false;
    }
    this.state[block] = BlockState.None;
    this.#requesters[block] = undefined;
    this.requested--;
    if (block < this.firstFree) this.firstFree = block;
    return true;
  }

  /** Marks `block` received; returns who had it requested (before clearing them). */
  receive(block: number): Requesters {
    const requesters = this.#requesters[block];
    if (this.state[block] === BlockState.Requested) this.requested--;
    this.state[block] = BlockState.Received;
    this.#requesters[block] = undefined;
    this.received++;
    return requesters;
  }
}

function forEachId(requesters: Requesters, fn: (id: string) => void): void {
  if (requesters === undefined) return;
  if (typeof requesters === 'string') fn(requesters);
  else for (const id of requesters) fn(id);
}

/**
 * The partial pieces a peer `has` (only those with a free block, if asked), most advanced first
 * (ties: lower index), into `out` (cleared first; reused, so a pick allocates no array). An
 * insertion sort: at most maxPartialPieces entries, and no allocation (Array#sort copies).
 */
export function startedPiecesOf(
  partials: Iterable<PartialPiece>,
  has: { has(index: number): boolean },
  withFreeBlocks: boolean,
  out: PartialPiece[],
): readonly PartialPiece[] {
  out.length = 0;
  for (const partial of partials) {
    if ((withFreeBlocks && partial.unrequested === 0) || !has.has(partial.index)) continue;
    let at = out.length;
    while (at > 0 && comesFirst(partial, out[at - 1]!)) {
      out[at] = out[at - 1]!;
      at--;
    }
    out[at] = partial;
  }
  return out;
}

/** Most advanced first; ties: lower index. */
function comesFirst(a: PartialPiece, b: PartialPiece): boolean {
  return a.progress > b.progress || (a.progress === b.progress && a.index < b.index);
}

/** Whether every requested block of `partials` is requested from `max` peers already. */
export function everyRequestSaturated(partials: Iterable<PartialPiece>, max: number): boolean {
  for (const partial of partials) {
    for (let block = 0; block < partial.blockCount; block++) {
      if (partial.state[block] === BlockState.Requested && partial.requesterCount(block) < max) return false;
    }
  }
  return true;
}
