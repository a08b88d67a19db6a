/** Per-block state of a piece being downloaded. */
export const BlockState = {
  None: 0,
  Requested: 1,
  Received: 2,
} as const;

/**
 * A piece we started: for each block whether it is unrequested, requested
 * (and from which peers: more than one only in endgame) or received.
 */
export class PartialPiece {
  readonly index: number;
  readonly blockCount: number;
  readonly state: Uint8Array;
  /** Peer ids a block is requested from (undefined unless state is Requested). */
  readonly requesters: (string[] | undefined)[];
  received = 0;
  requested = 0;
  /** No block below this is in state None: a scan hint, reset when a block goes back. */
  firstFree = 0;

  constructor(index: number, blockCount: number) {
    this.index = index;
    this.blockCount = blockCount;
    this.state = new Uint8Array(blockCount);
    this.requesters = new Array(blockCount);
  }

  get unrequested(): number {
    return this.blockCount - this.received - this.requested;
  }

  /** Blocks requested or received: how far along the piece is. */
  get progress(): number {
    return this.received + this.requested;
  }

  /** Marks block `block` requested from `peerId`; false if that peer already has it requested. */
  request(block: number, peerId: string): boolean {
    const state = this.state[block];
    if (state === BlockState.Received) return false;
    if (state === BlockState.None) {
      this.state[block] = BlockState.Requested;
      this.requesters[block] = [peerId];
      this.requested++;
      return true;
    }
    const list = this.requesters[block]!;
    if (list.includes(peerId)) return false;
    list.push(peerId);
    return true;
  }

  /**
   * Forgets `peerId`'s request for `block`. Returns true when the block went
   * back to None (nobody else asked for it).
   */
  release(block: number, peerId: string): boolean {
    if (this.state[block] !== BlockState.Requested) return false;
    const list = this.requesters[block]!;
    const at = list.indexOf(peerId);
    if (at < 0) return false;
    list.splice(at, 1);
    if (list.length > 0) return false;
    this.state[block] = BlockState.None;
    this.requesters[block] = undefined;
    this.requested--;
    if (block < this.firstFree) this.firstFree = block;
    return true;
  }

  /** Marks `block` received; returns who else had it requested (before clearing them). */
  receive(block: number): { wasNone: boolean; requesters: string[] } {
    const state = this.state[block];
    const requesters = this.requesters[block] ?? [];
    if (state === BlockState.Requested) this.requested--;
    this.state[block] = BlockState.Received;
    this.requesters[block] = undefined;
    this.received++;
    return { wasNone: state === BlockState.None, requesters };
  }
}
