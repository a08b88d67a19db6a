/**
 * Pieces kept sorted by availability (how many connected peers have them),
 * the data structure behind rarest-first.
 *
 * Layout (the libtorrent idea): one array `order` holds the candidate pieces
 * (those we do not have) grouped in buckets of equal availability, rarest
 * bucket first; `bucketEnd[a]` is the exclusive end of bucket `a`, so bucket
 * `a` spans [bucketEnd[a - 1], bucketEnd[a]). Changing a piece's availability
 * by one swaps it with the edge element of its bucket and moves the boundary:
 * O(1), which matters because every bitfield and have message changes it.
 * Removing a piece (verified) cascades it to the end through the buckets
 * above it: O(distinct availability levels), at most the peer count, once
 * per piece. Nothing here ever sorts.
 */
export class RarityOrder {
  readonly #availability: Uint32Array;
  readonly #order: Int32Array;
  /** Position of each piece in `order`, or -1 once removed. */
  readonly #position: Int32Array;
  readonly #bucketEnd: number[];

  /**
   * `availability` may be shared by several orders over disjoint candidate sets (one per
   * priority class): then only the order that contains a piece may change its count, and the
   * owner bumps the shared array itself for a piece in no order.
   */
  constructor(pieceCount: number, isCandidate: (index: number) => boolean, availability?: Uint32Array) {
    this.#availability = availability ?? new Uint32Array(pieceCount);
    this.#order = new Int32Array(pieceCount);
    this.#position = new Int32Array(pieceCount).fill(-1);
    let length = 0;
    for (let index = 0; index < pieceCount; index++) {
      if (!isCandidate(index)) continue;
      this.#order[length] = index;
      this.#position[index] = length++;
    }
    this.#bucketEnd = [length];
  }

  /** Candidate pieces still in the order. */
  get length(): number {
    return this.#bucketEnd[this.#bucketEnd.length - 1]!;
  }

  /** Highest availability level that has a bucket (buckets may be empty). */
  get maxLevel(): number {
    return this.#bucketEnd.length - 1;
  }

  availability(index: number): number {
    return this.#availability[index] ?? 0;
  }

  contains(index: number): boolean {
    return (this.#position[index] ?? -1) >= 0;
  }

  /** The piece at position `position` (0 ≤ position < length). */
  at(position: number): number {
    return this.#order[position]!;
  }

  /** Positions [start, end) of the pieces with availability `level`. */
  bucket(level: number): [number, number] {
    const start = level === 0 ? 0 : (this.#bucketEnd[level - 1] ?? this.length);
    return [start, this.#bucketEnd[level] ?? this.length];
  }

  increment(index: number): void {
    const level = this.#availability[index]!;
    this.#availability[index] = level + 1;
    if (!this.contains(index)) return;
    if (level + 1 > this.maxLevel) this.#bucketEnd.push(this.length);
    // Swap to the end of bucket `level`, then shrink that bucket: the piece is now first of `level + 1`.
    const last = this.#bucketEnd[level]! - 1;
    this.#swap(this.#position[index]!, last);
    this.#bucketEnd[level] = last;
  }

  decrement(index: number): void {
    const level = this.#availability[index]!;
    if (level === 0) return; // a peer we never counted: keep the count sane
    this.#availability[index] = level - 1;
    if (!this.contains(index)) return;
    // Swap to the start of bucket `level`, then grow bucket `level - 1` over it.
    const first = this.#bucketEnd[level - 1]!;
    this.#swap(this.#position[index]!, first);
    this.#bucketEnd[level - 1] = first + 1;
    this.#trimEmptyTop();
  }

  /** Takes a piece out of the order for good (we have it now). */
  remove(index: number): void {
    if (!this.contains(index)) return;
    const level = this.#availability[index]!;
    for (let b = level; b <= this.maxLevel; b++) {
      const last = this.#bucketEnd[b]! - 1;
      this.#swap(this.#position[index]!, last);
      this.#bucketEnd[b] = last;
    }
    this.#position[index] = -1;
    this.#trimEmptyTop();
  }

  /**
   * Puts a piece (back) into the order at its current availability: the
   * reverse of remove(), O(distinct availability levels).
   */
  insert(index: number): void {
    if (this.contains(index)) return;
    const level = this.#availability[index]!;
    while (this.maxLevel < level) this.#bucketEnd.push(this.length);
    const at = this.length;
    this.#order[at] = index;
    this.#position[index] = at;
    this.#bucketEnd[this.maxLevel] = at + 1;
    // Now last of the top bucket: walk it down, one bucket boundary at a time.
    for (let b = this.maxLevel; b > level; b--) {
      const first = this.#bucketEnd[b - 1]!;
      this.#swap(this.#position[index]!, first);
      this.#bucketEnd[b - 1] = first + 1;
    }
  }

  #swap(a: number, b: number): void {
    if (a === b) return;
    const pieceA = this.#order[a]!;
    const pieceB = this.#order[b]!;
    this.#order[a] = pieceB;
    this.#order[b] = pieceA;
    this.#position[pieceB] = a;
    this.#position[pieceA] = b;
  }

  /** Drops empty top buckets so scans stop at the highest real level. */
  #trimEmptyTop(): void {
    const ends = this.#bucketEnd;
    while (ends.length > 1 && ends[ends.length - 2] === ends[ends.length - 1]) ends.pop();
  }
}
