// Whether a consumer-group member can do its work, for GET /readyz: it has joined its group (so it holds its share
// of the partitions, possibly none when the group has more members than partitions), its client has not given up
// after a crash, and no batch has been in its handler for longer than `stuckAfterMs`. Pure: the member's runner
// reports what it saw (src/events/kafka/health.ts); this decides.

export type ConsumerHealth = Readonly<{
  groupId: string;
  /** When the member last finished joining its group (ms since epoch); null before the first join, while it
   *  rejoins (a rebalance) and after a crash until it joined again. */
  joinedAt: number | null;
  /** Topic-partitions the member holds since its last join. */
  partitions: number;
  /** Why the client stopped for good (a crash it does not restart from); null while it runs. */
  failed: string | null;
  /** The batch in the handler for longest: its topic-partition and since when; null when none is. */
  oldestBatch: Readonly<{ topic: string; partition: number; since: number }> | null;
}>;

export type ConsumerVerdict = Readonly<{ ok: true; detail: string } | { ok: false; error: string }>;

export function judgeConsumer(h: ConsumerHealth, now: number, stuckAfterMs: number): ConsumerVerdict {
  if (h.failed !== null) return { ok: false, error: `${h.groupId}: the consumer stopped after a crash (${h.failed}); restart the process` };
  if (h.joinedAt === null) return { ok: false, error: `${h.groupId}: not in its group yet (joining or rebalancing)` };
  if (h.oldestBatch && now - h.oldestBatch.since > stuckAfterMs) {
    const { topic, partition, since } = h.oldestBatch;
    return {
      ok: false,
      error: `${h.groupId}: stuck: a batch of ${topic}[${partition}] has been in the handler for ${Math.round((now - since) / 1000)} s (more than ${stuckAfterMs} ms)`,
    };
  }
  return { ok: true, detail: `${h.groupId}: ${h.partitions} partition${h.partitions === 1 ? '' : 's'}` };
}

/** Several members (a role runs more than one group) judged together: ready only when every one is. */
export function judgeConsumers(all: readonly ConsumerHealth[], now: number, stuckAfterMs: number): ConsumerVerdict {
  const verdicts = all.map((h) => judgeConsumer(h, now, stuckAfterMs));
  const bad = verdicts.flatMap((v) => (v.ok ? [] : [v.error]));
  if (bad.length > 0) return { ok: false, error: bad.join('; ') };
  return { ok: true, detail: verdicts.map((v) => (v.ok ? v.detail : '')).join('; ') };
}
