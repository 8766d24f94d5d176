// A consumer for delay-tier topics that never sleeps inside a handler: when the head record of a partition is not
// due yet, it pauses that partition (leaving the record unresolved, so it is fetched again) and resumes it when the
// record is due. Other partitions keep flowing. On every rebalance all timers are dropped and every paused
// partition resumed, so no partition stays paused for a consumer that lost it or regained it.
import { type Consumer, type Kafka } from 'kafkajs';
import { type Logger } from '../core/log.ts';
import { type ConsumedRecord, type RunningConsumer } from '../events/kafka.ts';

export type DueConsumerOptions = Readonly<{
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  log: Logger;
  /** When a record may be handled (ms since epoch). */
  dueAt: (r: ConsumedRecord) => number;
  handle: (r: ConsumedRecord) => Promise<void>;
  now?: () => number;
  /** Partitions handled at once (their handlers wait on HTTP). */
  concurrency?: number;
}>;

export async function runDueConsumer(opts: DueConsumerOptions): Promise<RunningConsumer> {
  const now = opts.now ?? Date.now;
  // A short fetch wait: a resumed partition is fetched within ~100 ms (a long poll would hold it up to 5 s).
  const consumer: Consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false, sessionTimeout: 30000, heartbeatInterval: 3000, maxWaitTimeInMs: 100 });
  const timers = new Map<string, NodeJS.Timeout>();
  const clearTimers = () => {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    clearTimers();
    const paused = consumer.paused();
    if (paused.length > 0) consumer.resume(paused);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [...opts.topics], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 4,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) return;
        const record: ConsumedRecord = {
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value,
          headers: {},
        };
        const wait = opts.dueAt(record) - now();
        if (wait > 0) {
          const tp = { topic: batch.topic, partitions: [batch.partition] };
          const key = `${batch.topic}|${batch.partition}`;
          consumer.pause([tp]);
          clearTimeout(timers.get(key));
          timers.set(key, setTimeout(() => {
            timers.delete(key);
            consumer.resume([tp]);
          }, wait));
          return; // the head stays unresolved: fetched again once resumed
        }
        await opts.handle(record);
        resolveOffset(m.offset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(m.offset) + 1n).toString() }]);
        await heartbeat();
      }
    },
  });
  return {
    stop: async () => {
      clearTimers();
      await consumer.disconnect();
    },
  };
}
