const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** A byte count for people: "512 B", "1.50 MiB" (1024-based, two decimals above 1 KiB). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return `${bytes} B`;
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  if (value < 1024) return `${sign}${Math.round(value)} B`;
  let unit = -1;
  // Move up while the rounded figure would read 1024.00 or more.
  while (unit < UNITS.length - 1 && value >= 1023.995) {
    value /= 1024;
    unit++;
  }
  return `${sign}${value.toFixed(2)} ${UNITS[unit]}`;
}
