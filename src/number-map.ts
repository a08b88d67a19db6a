/**
 * A map from non-negative integer keys to numbers, stored in typed arrays
 * (open addressing, linear probing, tombstones).
 *
 * Why not a `Map<number, number>`: V8 never reuses the slot of a deleted
 * entry in an ordered hash table, so a long-lived Map with steady churn (a
 * peer's outstanding requests: one set and one delete per block) reallocates
 * its backing store every few hundred operations, and once the Map is in old
 * space every new store is allocated there directly. Over a 4 GiB download
 * that was most of the old-space growth between full collections, and so the
 * part of peak memory that grew with the torrent's size. Here the slots are
 * reused, the arrays live outside the JS heap, and a rehash at the same size
 * swaps into a spare pair instead of allocating.
 *
 * It never shrinks: its users hold a bounded number of entries (a request
 * pipeline, a peer's blocks in flight). Deleting during `forEach` is safe (a
 * deleted slot only becomes a tombstone); any `set` during `forEach` throws,
 * as an insertion could rehash the arrays being walked.
 */
export class NumberMap {
  #keys: Float64Array;
  #values: Float64Array;
  #spareKeys: Float64Array | undefined;
  #spareValues: Float64Array | undefined;
  #mask: number;
  #size = 0;
  #tombstones = 0;
  #iterating = 0;

  constructor(initialCapacity = 16) {
    const capacity = powerOfTwoAtLeast(Math.max(8, initialCapacity * 2));
    this.#keys = new Float64Array(capacity).fill(EMPTY);
    this.#values = new Float64Array(capacity);
    this.#mask = capacity - 1;
  }

  get size(): number {
    return this.#size;
  }

  has(key: number): boolean {
    return this.#find(key) >= 0;
  }

  get(key: number): number | undefined {
    const slot = this.#find(key);
    return slot >= 0 ? this.#values[slot] : undefined;
  }

  set(key: number, value: number): this {
    if (!(key >= 0 && key <= Number.MAX_SAFE_INTEGER && Math.floor(key) === key)) {
      throw new RangeError(`NumberMap keys are non-negative safe integers, not ${key}`);
    }
    if (this.#iterating > 0) throw new Error('NumberMap: set during forEach');
    const keys = this.#keys;
    const mask = this.#mask;
    let slot = hashOf(key) & mask;
    let reusable = -1;
    for (;;) {
      const found = keys[slot]!;
      if (found === key) {
        this.#values[slot] = value;
        return this;
      }
      if (found === EMPTY) break;
      if (found === TOMBSTONE && reusable < 0) reusable = slot;
      slot = (slot + 1) & mask;
    }
    if (reusable >= 0) {
      slot = reusable;
      this.#tombstones--;
    }
    keys[slot] = key;
    this.#values[slot] = value;
    this.#size++;
    // Keep at least a quarter of the slots empty so every probe ends quickly.
    if ((this.#size + this.#tombstones) * 4 > keys.length * 3) this.#rehash();
    return this;
  }

  delete(key: number): boolean {
    const slot = this.#find(key);
    if (slot < 0) return false;
    this.#keys[slot] = TOMBSTONE;
    this.#size--;
    this.#tombstones++;
    return true;
  }

  clear(): void {
    if (this.#size === 0 && this.#tombstones === 0) return;
    this.#keys.fill(EMPTY);
    this.#size = 0;
    this.#tombstones = 0;
  }

  /** Calls `fn(value, key)` for each entry, in no particular order. */
  forEach(fn: (value: number, key: number) => void): void {
    const keys = this.#keys;
    const values = this.#values;
    this.#iterating++;
    try {
      for (let slot = 0; slot < keys.length; slot++) {
        const key = keys[slot]!;
        if (key >= 0) fn(values[slot]!, key);
      }
    } finally {
      this.#iterating--;
    }
  }

  #find(key: number): number {
    const keys = this.#keys;
    const mask = this.#mask;
    let slot = hashOf(key) & mask;
    for (;;) {
      const found = keys[slot]!;
      if (found === key) return key >= 0 ? slot : -1;
      if (found === EMPTY) return -1;
      slot = (slot + 1) & mask;
    }
  }

  /** Drops the tombstones; doubles when at least half the slots hold entries. */
  #rehash(): void {
    const oldKeys = this.#keys;
    const oldValues = this.#values;
    const capacity = this.#size * 2 >= oldKeys.length ? oldKeys.length * 2 : oldKeys.length;
    let keys: Float64Array;
    let values: Float64Array;
    if (capacity === oldKeys.length && this.#spareKeys && this.#spareValues) {
      keys = this.#spareKeys.fill(EMPTY);
      values = this.#spareValues;
    } else {
      keys = new Float64Array(capacity).fill(EMPTY);
      values = new Float64Array(capacity);
    }
    const mask = capacity - 1;
    for (let from = 0; from < oldKeys.length; from++) {
      const key = oldKeys[from]!;
      if (key < 0) continue;
      let slot = hashOf(key) & mask;
      while (keys[slot] !== EMPTY) slot = (slot + 1) & mask;
      keys[slot] = key;
      values[slot] = oldValues[from]!;
    }
    const sameSize = capacity === oldKeys.length;
    this.#spareKeys = sameSize ? oldKeys : undefined;
    this.#spareValues = sameSize ? oldValues : undefined;
    this.#keys = keys;
    this.#values = values;
    this.#mask = mask;
    this.#tombstones = 0;
  }
}

const EMPTY = -1;
const TOMBSTONE = -2;

function powerOfTwoAtLeast(n: number): number {
  let capacity = 8;
  while (capacity < n) capacity *= 2;
  return capacity;
}

/** Mixes all 53 bits, so keys that differ only in high bits (or by a stride) spread out. */
function hashOf(key: number): number {
  const high = (key / 0x1_0000_0000) | 0;
  let h = Math.imul((key >>> 0) ^ Math.imul(high, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
