/**
 * RC4 micro-benchmark (issue 16): MiB per CPU-second of `Rc4.process` in place, on the chunk
 * sizes an MSE connection sees: 64 KiB socket reads, 16 KiB blocks, and 16 KiB + 13 B piece
 * messages that start and end off a word boundary (the byte head and tail run every call).
 *
 * CPU time of this process (`process.cpuUsage`), not wall time: the machine is shared, and a
 * preempted run would otherwise look slow. Each size is measured `--rounds` times (default 7)
 * after a warm-up; the median and the range are printed, with the CPU seconds per GiB.
 *
 *   node dist/bench/rc4-micro.js [--rounds 7] [--mib 256]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Rc4 } from '../src/net/mse/rc4.js';

export interface Rc4MicroResult {
  name: string;
  chunkBytes: number;
  /** MiB of data per CPU-second, one entry per round. */
  mibPerCpuSecond: number[];
}

const SIZES = [
  { name: '64 KiB reads', bytes: 64 * 1024, offset: 0 },
  { name: '16 KiB blocks', bytes: 16 * 1024, offset: 0 },
  { name: '16 KiB + 13 B piece messages, unaligned', bytes: 16 * 1024 + 13, offset: 3 },
] as const;

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** Runs every size `rounds` times over `mib` MiB each (pure computation, no I/O). */
export function measureRc4(rounds: number, mib: number): Rc4MicroResult[] {
  const backing = randomBytes(64 * 1024 + 64);
  const cipher = new Rc4(randomBytes(20), 1024);
  const results: Rc4MicroResult[] = SIZES.map((size) => ({
    name: size.name,
    chunkBytes: size.bytes,
    mibPerCpuSecond: [],
  }));
  const total = mib * 1024 * 1024;
  for (let round = 0; round < rounds; round++) {
    // Sizes interleaved within a round: a busy spell on the machine hits all of them alike.
    SIZES.forEach((size, index) => {
      const end = size.offset + size.bytes;
      for (let k = 0; k < 64; k++) cipher.process(backing, size.offset, end); // warm-up
      const calls = Math.ceil(total / size.bytes);
      const before = cpuSeconds();
      for (let call = 0; call < calls; call++) cipher.process(backing, size.offset, end);
      const spent = cpuSeconds() - before;
      results[index]!.mibPerCpuSecond.push((calls * size.bytes) / (1024 * 1024) / Math.max(spent, 1e-6));
    });
  }
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function main(): void {
  const { values } = parseArgs({
    options: { rounds: { type: 'string' }, mib: { type: 'string' } },
  });
  const rounds = Math.max(1, Number(values.rounds ?? 7));
  const mib = Math.max(1, Number(values.mib ?? 256));
  const lines = [
    '| RC4 in place | MiB per CPU-second, median (min–max) | CPU s/GiB |',
    '| --- | --- | --- |',
  ];
  for (const result of measureRc4(rounds, mib)) {
    const m = median(result.mibPerCpuSecond);
    const min = Math.min(...result.mibPerCpuSecond);
    const max = Math.max(...result.mibPerCpuSecond);
    lines.push(
      `| ${result.name} | ${m.toFixed(0)} (${min.toFixed(0)}–${max.toFixed(0)}) | ${(1024 / m).toFixed(2)} |`,
    );
  }
  process.stdout.write(
    `${lines.join('\n')}\n\n${rounds} rounds of ${mib} MiB per size, node ${process.version}\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();
