/**
 * The order of sequential download: a few "head-start" pieces first (each wanted file's first
 * and last piece), then every piece in index order. Two cursors remember where the pieces
 * settled for good (had, or unwanted) end, so a pick is amortised O(1): pieces below a cursor
 * are never looked at again until reset() (a selection change, a failed piece is not settled).
 */
export class SequentialOrder {
  readonly #pieceCount: number;
  #first: number[];
  #firstCursor = 0;
  #cursor = 0;

  constructor(pieceCount: number, first: readonly number[] = []) {
    this.#pieceCount = pieceCount;
    this.#first = sortedUnique(first, pieceCount);
  }

  /** Replaces the head-start pieces (and looks at every piece again). */
  setFirst(first: readonly number[]): void {
    this.#first = sortedUnique(first, this.#pieceCount);
    this.reset();
  }

  /** Looks at every piece again (what was settled may not be any more). */
  reset(): void {
    this.#firstCursor = 0;
    this.#cursor = 0;
  }

  /**
   * The first head-start piece `startable` accepts, else the lowest-index one. `settled` says
   * a piece is done with for good (the cursors pass it).
   */
  next(settled: (index: number) => boolean, startable: (index: number) => boolean): number | undefined {
    const first = this.#first;
    while (this.#firstCursor < first.length && settled(first[this.#firstCursor]!)) this.#firstCursor++;
    for (let at = this.#firstCursor; at < first.length; at++) {
      if (startable(first[at]!)) return first[at]!;
    }
    while (this.#cursor < this.#pieceCount && settled(this.#cursor)) this.#cursor++;
    for (let index = this.#cursor; index < this.#pieceCount; index++) {
      if (startable(index)) return index;
    }
    return undefined;
  }
}

/** Distinct valid piece indexes, ascending. */
function sortedUnique(pieces: readonly number[], pieceCount: number): number[] {
  const valid = pieces.filter((index) => Number.isInteger(index) && index >= 0 && index < pieceCount);
  return [...new Set(valid)].sort((a, b) => a - b);
}
