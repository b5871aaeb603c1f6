/** Runs `task` over `items` with at most `limit` in flight; rejects with the first failure. */
export async function forEachInParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    // An index, not queue.shift(): shifting a 20,000-item array each step is quadratic.
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
