// Bounded concurrency: work over items in at most `limit` lanes, each lane taking the next item as soon as it is
// free. A failed item does not stop the others; the call settles only when every item has, so a failure never
// leaves writes or sends running behind a caller that has already moved on (a retried batch, say), and then
// rejects with the first failure.
export async function inLanes<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item).catch((err: unknown) => void errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (errors.length > 0) throw errors[0];
}

/** Consecutive slices of at most `size` items. */
export const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
