/**
 * Durations as people type them: `90` (seconds), `15s`, `5m`, `2h`, `1d`, `500ms`,
 * and combinations from the largest unit down (`1h30m`, `2m30s`, `1s500ms`).
 * One parser for every duration option, so they all accept the same forms.
 */

const UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
] as const;

/** Longest duration accepted: 365 days (anything longer is surely a typo, and overflows timers). */
export const MAX_DURATION_MS = 365 * 86_400_000;

const COMBINED = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Milliseconds for `text`, or undefined when it is not a duration. A bare number is
 * seconds and may have a fraction (`1.5`); units take whole numbers, each at most once,
 * largest first. Results above 365 days are refused.
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  let ms: number;
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    ms = Math.round(Number(trimmed) * 1000);
  } else {
    const match = COMBINED.exec(trimmed);
    if (!match || trimmed === '') return undefined;
    ms = 0;
    for (let i = 0; i < UNITS.length; i++) {
      const digits = match[i + 1];
      if (digits !== undefined) ms += Number(digits) * UNITS[i]![1];
    }
  }
  return Number.isSafeInteger(ms) && ms <= MAX_DURATION_MS ? ms : undefined;
}

/** The shortest canonical form of `ms` (`5m`, `1h30m`, `2s500ms`, `0s`); parseDurationMs reads it back. */
export function formatDurationMs(ms: number): string {
  let left = Math.max(0, Math.round(ms));
  if (left === 0) return '0s';
  let out = '';
  for (const [unit, size] of UNITS) {
    const count = Math.floor(left / size);
    if (count > 0) {
      out += `${count}${unit}`;
      left -= count * size;
    }
  }
  return out;
}
