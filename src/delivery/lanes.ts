// Runs groups of work in at most `limit` lanes: each group's items one after another (one delivery's attempt
// records in order), different groups side by side. A group that never settles holds one lane, not the others.
import { inLanes } from '../core/lanes.ts';

export function runGrouped<T>(groups: readonly (readonly T[])[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  return inLanes(groups, limit, async (group) => {
    for (const item of group) await fn(item);
  });
}
