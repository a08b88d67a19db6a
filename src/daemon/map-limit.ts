/**
 * `items.map(run)` with at most `limit` calls under way, results in the items' order. The daemon
 * reads its 1,000s of small state files at start through this: one after the other, the reads'
 * latency added up to a second; all at once, they would take as many descriptors.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
