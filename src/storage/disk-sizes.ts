/**
 * A storage's memory of its files' sizes on disk, so a resume check stats each file once: one
 * number per file (NaN: not known yet, -1: missing or unreadable), made on first use and
 * forgotten on `reset()` (open, close).
 */
export class DiskSizes {
  readonly #count: number;
  readonly #stat: (index: number) => Promise<number | undefined>;
  #sizes: Float64Array | undefined;
  /** Stats in flight, by file index. */
  readonly #sizing = new Map<number, Promise<number | undefined>>();

  /** `stat(index)`: the size of file `index` on disk, undefined when missing or unreadable. */
  constructor(count: number, stat: (index: number) => Promise<number | undefined>) {
    this.#count = count;
    this.#stat = stat;
  }

  reset(): void {
    this.#sizes = undefined;
  }

  /** Whether file `index` is known to be missing (a stat found no file since the last reset). */
  knownMissing(index: number): boolean {
    return this.#sizes?.[index] === -1;
  }

  /** A write gave file `index` this size. */
  set(index: number, size: number): void {
    this.#known()[index] = size;
  }

  /** The size of file `index` on disk (stat'd once), undefined when missing or unreadable. */
  async get(index: number): Promise<number | undefined> {
    const sizes = this.#known();
    const known = sizes[index]!;
    if (!Number.isNaN(known)) return known < 0 ? undefined : known;
    let size = this.#sizing.get(index);
    if (!size) {
      size = this.#stat(index);
      this.#sizing.set(index, size);
      size.then((value) => {
        this.#sizing.delete(index);
        // A write may have set the size meanwhile; it wins.
        if (this.#sizes === sizes && Number.isNaN(sizes[index]!)) sizes[index] = value ?? -1;
      });
    }
    return size;
  }

  #known(): Float64Array {
    if (!this.#sizes) {
      this.#sizes = new Float64Array(this.#count);
      this.#sizes.fill(Number.NaN);
    }
    return this.#sizes;
  }
}
