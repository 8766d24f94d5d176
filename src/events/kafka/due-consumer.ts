// A consumer for delay-tier topics that never sleeps inside a handler: when the head record of a partition is not
// due yet, it pauses that partition (leaving the record unresolved, so it is fetched again) and resumes it when the
// record is due. Other partitions keep flowing. On every rebalance all timers are dropped and every paused
// partition resumed, so no partition stays paused for a consumer that lost it or regained it.
// The due records at the front of a batch are handed over together (the delivery worker sends them concurrently)
// and the offset is committed once the handler is done. Meanwhile the consumer heartbeats (keep-alive.ts): such a
// batch can last longer than the session timeout, and a member that misses its heartbeats loses its partitions to another, which
// would send the attempts still in flight again.
import { type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import { systemClock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type ConsumedRecord, type DueConsumerOptions, type RunningConsumer } from '../port.ts';
import { commitThrough } from './batch-consumer.ts';
import { whileBeating } from './keep-alive.ts';

export async function runDueConsumer(kafka: Kafka, opts: DueConsumerOptions): Promise<RunningConsumer> {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now().getTime();
  const log = opts.log;
  // A short fetch wait: a resumed partition is fetched within ~100 ms (a long poll would hold it up to 5 s).
  const sessionTimeout = opts.sessionTimeoutMs ?? 30000;
  const heartbeatInterval = opts.heartbeatIntervalMs ?? 3000;
  if (!(heartbeatInterval > 0 && heartbeatInterval < sessionTimeout)) {
    throw new AppError(
      'EC_CONFIG_INVALID',
      `due consumer heartbeatIntervalMs ${heartbeatInterval} must be positive and below sessionTimeoutMs ${sessionTimeout}`,
      { details: { parameter: 'heartbeatIntervalMs' } },
    );
  }
  const consumer: Consumer = kafka.consumer({
    groupId: opts.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout,
    heartbeatInterval,
    maxWaitTimeInMs: 100,
  });
  const timers = new Map<string, NodeJS.Timeout>();
  const clearTimers = () => {
    for (const t of timers.values()) clearTimeout(t);
    timers.clear();
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    clearTimers();
    opts.onOwnershipChange?.();
    const paused = consumer.paused();
    if (paused.length > 0) consumer.resume(paused);
  });
  // A crashed consumer restarts by itself (kafkajs); its timers must not call resume on it meanwhile.
  consumer.on(consumer.events.CRASH, () => {
    clearTimers();
    opts.onOwnershipChange?.();
  });
  consumer.on(consumer.events.STOP, clearTimers);

  const toRecord = (topic: string, partition: number, m: KafkaMessage): ConsumedRecord => ({
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value,
    headers: {},
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [...opts.topics], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 4,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (!isRunning() || isStale()) return;
      const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
      const firstNotDue = records.findIndex((r) => opts.dueAt(r) > now());
      const due = firstNotDue === -1 ? records : records.slice(0, firstNotDue);
      if (due.length > 0) {
        await whileBeating(() => opts.handleBatch(due), {
          heartbeat,
          everyMs: heartbeatInterval,
          onError: (err) =>
            log.debug(
              { err, topic: batch.topic, partition: batch.partition },
              'heartbeat during a batch failed (the group rejoins after it)',
            ),
        });
        const last = due[due.length - 1]!;
        resolveOffset(last.offset);
        // Evicted (a stall past the session) or rebalancing: kafkajs rejoins and fetches again from the committed
        // offsets instead of stopping the worker for good (batch-consumer.ts).
        await commitThrough(consumer, batch.topic, batch.partition, last.offset);
        await heartbeat();
      }
      if (firstNotDue === -1 || !isRunning() || isStale()) return;
      // The new head is not due: pause until it is; it stays unresolved, so it is fetched again after the resume.
      const wait = opts.dueAt(records[firstNotDue]!) - now();
      const tp = { topic: batch.topic, partitions: [batch.partition] };
      const key = `${batch.topic}|${batch.partition}`;
      consumer.pause([tp]);
      clearTimeout(timers.get(key));
      timers.set(
        key,
        setTimeout(
          () => {
            timers.delete(key);
            try {
              consumer.resume([tp]);
            } catch (err) {
              log.warn(
                { err, topic: batch.topic, partition: batch.partition },
                'could not resume a partition (the consumer is restarting; it resumes on rejoin)',
              );
            }
          },
          Math.max(0, wait),
        ),
      );
    },
  });
  return {
    stop: async () => {
      clearTimers();
      await consumer.disconnect();
    },
  };
}
