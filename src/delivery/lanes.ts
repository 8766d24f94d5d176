// Runs groups of work in at most `limit` lanes: each group's items one after another (one delivery's attempt
// records in order), different groups side by side. A group that never settles holds one lane, not the others.

export async function runGrouped<T>(groups: readonly (readonly T[])[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < groups.length) {
      const group = groups[next++]!;
      for (const item of group) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, groups.length) }, lane));
}
