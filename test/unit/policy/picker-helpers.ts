import { Bitfield } from '../../../src/bitfield.js';
import { PiecePicker, type PiecePickerOptions } from '../../../src/policy/piece-picker.js';

/** mulberry32: a tiny seeded PRNG so every pick is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** '1 0 1 1' or '1011' → Bitfield. */
export function bits(pattern: string): Bitfield {
  const digits = pattern.replace(/\s+/g, '');
  const field = new Bitfield(digits.length);
  [...digits].forEach((digit, index) => {
    if (digit === '1') field.set(index);
  });
  return field;
}

export interface TableSetup {
  /** Availability per piece, e.g. '1 3 2 0'. */
  availability: string;
  /** Pieces we have, e.g. '0 0 1 0'. */
  have?: string;
  seed?: number;
  blocksPerPiece?: number;
  options?: Partial<PiecePickerOptions>;
}

export const BLOCK = 16;

/**
 * A picker built from a compact table row, libtorrent style: one character
 * per piece. Pieces are `blocksPerPiece` blocks of 16 bytes; random-first is
 * off unless the options turn it on.
 */
export function tablePicker(setup: TableSetup): PiecePicker {
  const availability = setup.availability.trim().split(/\s+/).map(Number);
  const pieceCount = availability.length;
  const pieceLength = BLOCK * (setup.blocksPerPiece ?? 1);
  const picker = new PiecePicker({
    pieceCount,
    pieceLength,
    totalLength: pieceCount * pieceLength,
    blockSize: BLOCK,
    random: seededRandom(setup.seed ?? 1),
    randomFirstPieces: 0,
    ...(setup.have ? { have: bits(setup.have) } : {}),
    ...setup.options,
  });
  availability.forEach((count, index) => {
    for (let k = 0; k < count; k++) picker.addPeerHave(index);
  });
  return picker;
}

/** The distinct pieces of a pick, in first-seen order. */
export function piecesOf(requests: readonly { index: number }[]): number[] {
  return [...new Set(requests.map((request) => request.index))];
}
