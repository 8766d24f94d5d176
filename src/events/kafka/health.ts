// What a kafkajs group member reports for readiness (src/events/consumer-health.ts judges it): its joins and
// rebalances and crashes from the client's instrumentation events, and the batches in the handler from the runners
// themselves (kafkajs emits no end event for a batch whose handler threw).
import { type Consumer } from 'kafkajs';
import { type ConsumerHealth } from '../consumer-health.ts';

export type HealthTracker = Readonly<{
  /** Runs one partition batch's handling, known as in flight meanwhile. */
  batch<T>(topic: string, partition: number, handle: () => Promise<T>): Promise<T>;
  health(): ConsumerHealth;
}>;

export function trackHealth(consumer: Consumer, groupId: string, now: () => number = Date.now): HealthTracker {
  let joinedAt: number | null = null;
  let partitions = 0;
  let failed: string | null = null;
  const inFlight = new Map<string, { topic: string; partition: number; since: number }>();
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joinedAt = now();
    partitions = Object.values(payload.memberAssignment).reduce((n, ps) => n + ps.length, 0);
  });
  consumer.on(consumer.events.REBALANCING, () => {
    joinedAt = null;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joinedAt = null;
    inFlight.clear();
    if (!payload.restart) failed = String((payload.error as Error | undefined)?.message ?? payload.error);
  });
  return {
    async batch(topic, partition, handle) {
      const key = `${topic}|${partition}`;
      inFlight.set(key, { topic, partition, since: now() });
      try {
        return await handle();
      } finally {
        inFlight.delete(key);
      }
    },
    health() {
      let oldest: ConsumerHealth['oldestBatch'] = null;
      for (const b of inFlight.values()) if (!oldest || b.since < oldest.since) oldest = b;
      return { groupId, joinedAt, partitions, failed, oldestBatch: oldest };
    },
  };
}
