// A consumer for delay-tier topics that never sleeps inside a handler: when the head record of a partition is not
// due yet, it pauses that partition (leaving the record unresolved, so it is fetched again) and resumes it when the
// record is due. Other partitions keep flowing. On every rebalance all timers are dropped and every paused
// partition resumed, so no partition stays paused for a consumer that lost it or regained it.
// The due records at the front of a batch are handed over together (handleBatch: the worker sends them concurrently,
// one receiver that hangs for the whole timeout must not hold up the others on its partition, records of one key one
// after another: runKeyed below) and the offset is committed once the handler is done. Meanwhile the consumer heartbeats (src/events/keep-alive.ts): such a batch can last
// longer than the session timeout, and a member that misses its heartbeats loses its partitions to another, which
// would send the attempts still in flight again.
import { type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import { AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { commitThrough, type ConsumedRecord, type RunningConsumer } from '../events/kafka.ts';
import { whileBeating } from '../events/keep-alive.ts';
import { runGrouped } from './lanes.ts';

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

export type DueConsumerOptions = Readonly<{
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  log: Logger;
  /** When a record may be handled (ms since epoch). */
  dueAt: (r: ConsumedRecord) => number;
  /** Handles the due records at the front of a partition batch; their offsets are committed after it resolves. */
  handleBatch: (records: readonly ConsumedRecord[]) => Promise<void>;
  /** Called when this member's partitions may have changed hands (it joined the group again, or restarts). */
  onOwnershipChange?: () => void;
  now?: () => number;
  /** Partitions handled at once. */
  concurrency?: number;
  /** The group session: a member silent this long loses its partitions. Default 30000 ms. */
  sessionTimeoutMs?: number;
  /** How often the member heartbeats, also while a batch is handled. Default 3000 ms; below sessionTimeoutMs. */
  heartbeatIntervalMs?: number;
}>;

export async function runDueConsumer(opts: DueConsumerOptions): Promise<RunningConsumer> {
  const now = opts.now ?? Date.now;
  const log = opts.log;
  // A short fetch wait: a resumed partition is fetched within ~100 ms (a long poll would hold it up to 5 s).
  const sessionTimeout = opts.sessionTimeoutMs ?? 30000;
  const heartbeatInterval = opts.heartbeatIntervalMs ?? 3000;
  if (!(heartbeatInterval > 0 && heartbeatInterval < sessionTimeout)) {
    throw new AppError('EC_CONFIG_INVALID', `due consumer heartbeatIntervalMs ${heartbeatInterval} must be positive and below sessionTimeoutMs ${sessionTimeout}`, { details: { parameter: 'heartbeatIntervalMs' } });
  }
  const consumer: Consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false, sessionTimeout, heartbeatInterval, maxWaitTimeInMs: 100 });
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
    topic, partition, offset: m.offset, key: m.key ? m.key.toString('utf8') : null, value: m.value, headers: {},
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
          onError: (err) => log.debug({ err, topic: batch.topic, partition: batch.partition }, 'heartbeat during a batch failed (the group rejoins after it)'),
        });
        const last = due[due.length - 1]!;
        resolveOffset(last.offset);
        // Evicted (a stall past the session) or rebalancing: kafkajs rejoins and fetches again from the committed
        // offsets instead of stopping the worker for good (src/events/kafka.ts).
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
      timers.set(key, setTimeout(() => {
        timers.delete(key);
        try {
          consumer.resume([tp]);
        } catch (err) {
          log.warn({ err, topic: batch.topic, partition: batch.partition }, 'could not resume a partition (the consumer is restarting; it resumes on rejoin)');
        }
      }, Math.max(0, wait)));
    },
  });
  return {
    stop: async () => {
      clearTimers();
      await consumer.disconnect();
    },
  };
}
