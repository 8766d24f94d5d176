// Runs groups of work in at most `limit` lanes: each group's items one after another (one delivery's attempt
// records in order), different groups side by side. A group that never settles holds one lane, not the others.
import { inLanes } from '../core/lanes.ts';
import { type ConsumedRecord } from '../events/port.ts';

export function runGrouped<T>(groups: readonly (readonly T[])[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  return inLanes(groups, limit, async (group) => {
    for (const item of group) await fn(item);
  });
}

/** Runs `fn` for every record, records of one key one after another and at most `limit` keys at once. */
export function runKeyed(records: readonly ConsumedRecord[], limit: number, fn: (r: ConsumedRecord) => Promise<void>): Promise<void> {
  const byKey = new Map<string, ConsumedRecord[]>();
  for (const r of records) {
    const k = r.key ?? r.offset;
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  return runGrouped([...byKey.values()], limit, fn);
}

/** Keys of one partition handled at once. A lane waiting on a hung receiver costs an idle socket and a timer, and
 *  every lane it holds delays the partition's other deliveries by up to DELIVERY_TIMEOUT_MS: 64 lets one endpoint
 *  hang on dozens of deliveries while the others still go out, and keeps a process at most 64 times
 *  `concurrency` sends (and their store writes) at once. */
export const KEYS_AT_ONCE = 64;
