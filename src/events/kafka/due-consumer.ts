// A consumer for delay-tier topics that never sleeps inside a handler: when the head record of a partition is not
// due yet, it pauses that partition (leaving the record unresolved, so it is fetched again) and resumes it when the
// record is due. Other partitions keep flowing. On every rebalance all timers are dropped and every paused
// partition resumed, so no partition stays paused for a consumer that lost it or regained it.
// The due records at the front of a batch are handed over together (the delivery worker sends them concurrently)
// and the offset is committed once the handler is done. Meanwhile the consumer heartbeats (keep-alive.ts): such a
// batch can last longer than the session timeout, and a member that misses its heartbeats loses its partitions to another, which
// would send the attempts still in flight again.
// The decisions (what is due, when a partition pauses and resumes, what is committed) are splitDue, createPauses and
// createDueBatchHandler, tested with fakes at the client's ports (due-consumer.test.ts); runDueConsumer wires them to kafkajs.
import { type Consumer, type Kafka, type KafkaMessage } from 'kafkajs';
import { systemClock, type Clock } from '../../core/clock.ts';
import { AppError } from '../../core/errors.ts';
import { type Logger } from '../../core/log.ts';
import { type ConsumedRecord, type DueConsumerOptions, type RunningConsumer } from '../port.ts';
import { commitThrough } from './batch-consumer.ts';
import { trackHealth } from './health.ts';
import { DEFAULT_SESSION_TIMEOUT_MS, heartbeatIntervalFor, whileBeating } from './keep-alive.ts';

/** The due records at the front of a partition batch, handed over together, and the rest, held back from the first
 *  record that is not due yet (a partition is handled in order, so a due record behind it waits too). Pure. */
export function splitDue(
  records: readonly ConsumedRecord[],
  dueAt: (r: ConsumedRecord) => number,
  now: number,
): { due: readonly ConsumedRecord[]; held: readonly ConsumedRecord[] } {
  const firstNotDue = records.findIndex((r) => dueAt(r) > now);
  return firstNotDue === -1 ? { due: records, held: [] } : { due: records.slice(0, firstNotDue), held: records.slice(firstNotDue) };
}

/** One-shot timers; `after` answers a cancel. The real ones by default; tests fire theirs by hand. */
export type Timers = Readonly<{ after(ms: number, fire: () => void): () => void }>;

const realTimers: Timers = {
  after(ms, fire) {
    const t = setTimeout(fire, ms);
    return () => clearTimeout(t);
  },
};

export type Pauses = Readonly<{
  /** Pauses a partition until `dueAt` (ms since epoch), then resumes it; replaces a timer it had. */
  pauseUntil(topic: string, partition: number, dueAt: number): void;
  /** After a rejoin: every timer dropped and every paused partition resumed (its head is fetched and judged again). */
  resumeAll(): void;
  /** The consumer crashed or stops: no timer may resume a partition on it any more. */
  dropTimers(): void;
}>;

/** The partitions waiting for their head record, and the timers that resume them. */
export function createPauses(
  consumer: Pick<Consumer, 'pause' | 'resume' | 'paused'>,
  deps: Readonly<{ clock: Clock; log: Logger; timers?: Timers }>,
): Pauses {
  const timers = deps.timers ?? realTimers;
  const cancels = new Map<string, () => void>();
  const dropTimers = () => {
    for (const cancel of cancels.values()) cancel();
    cancels.clear();
  };
  return {
    pauseUntil(topic, partition, dueAt) {
      const tp = { topic, partitions: [partition] };
      const key = `${topic}|${partition}`;
      consumer.pause([tp]);
      cancels.get(key)?.();
      cancels.set(
        key,
        timers.after(Math.max(0, dueAt - deps.clock.now().getTime()), () => {
          cancels.delete(key);
          try {
            consumer.resume([tp]);
          } catch (err) {
            deps.log.warn({ err, topic, partition }, 'could not resume a partition (the consumer is restarting; it resumes on rejoin)');
          }
        }),
      );
    },
    resumeAll() {
      dropTimers();
      const paused = consumer.paused();
      if (paused.length > 0) consumer.resume(paused);
    },
    dropTimers,
  };
}

/** A fetched partition batch, as the consumer's runner hands it over. */
export type FetchedBatch = Readonly<{
  topic: string;
  partition: number;
  records: readonly ConsumedRecord[];
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
}>;

export type DueBatchDeps = Readonly<{
  opts: Pick<DueConsumerOptions, 'dueAt' | 'handleBatch' | 'log'>;
  clock: Clock;
  heartbeatIntervalMs: number;
  pauses: Pauses;
  /** Commits the partition's offset past `lastOffset`. */
  commit(topic: string, partition: number, lastOffset: string): Promise<void>;
}>;

/** What the consumer does with a fetched batch: hands over the due records at its front and commits through the
 *  last of them, then pauses the partition until the first held-back record is due (left unresolved, it is fetched
 *  again after the resume). */
export function createDueBatchHandler(deps: DueBatchDeps): (b: FetchedBatch) => Promise<void> {
  const { opts, clock } = deps;
  return async (b) => {
    if (!b.isRunning() || b.isStale()) return;
    const { due, held } = splitDue(b.records, opts.dueAt, clock.now().getTime());
    if (due.length > 0) {
      await whileBeating(() => opts.handleBatch(due), {
        heartbeat: b.heartbeat,
        everyMs: deps.heartbeatIntervalMs,
        onError: (err) =>
          opts.log.debug({ err, topic: b.topic, partition: b.partition }, 'heartbeat during a batch failed (the group rejoins after it)'),
      });
      const last = due[due.length - 1]!;
      b.resolveOffset(last.offset);
      // Evicted (a stall past the session) or rebalancing: kafkajs rejoins and fetches again from the committed
      // offsets instead of stopping the worker for good (batch-consumer.ts).
      await deps.commit(b.topic, b.partition, last.offset);
      await b.heartbeat();
    }
    if (held.length === 0 || !b.isRunning() || b.isStale()) return;
    deps.pauses.pauseUntil(b.topic, b.partition, opts.dueAt(held[0]!));
  };
}

export async function runDueConsumer(kafka: Kafka, opts: DueConsumerOptions): Promise<RunningConsumer> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log;
  // A short fetch wait: a resumed partition is fetched within ~100 ms (a long poll would hold it up to 5 s).
  const sessionTimeout = opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const heartbeatInterval = opts.heartbeatIntervalMs ?? heartbeatIntervalFor(sessionTimeout);
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
  const pauses = createPauses(consumer, { clock, log });
  const tracker = trackHealth(consumer, opts.groupId);
  consumer.on(consumer.events.GROUP_JOIN, () => {
    opts.onOwnershipChange?.();
    pauses.resumeAll();
  });
  // A crashed consumer restarts by itself (kafkajs); its timers must not call resume on it meanwhile.
  consumer.on(consumer.events.CRASH, () => {
    pauses.dropTimers();
    opts.onOwnershipChange?.();
  });
  consumer.on(consumer.events.STOP, pauses.dropTimers);

  const toRecord = (topic: string, partition: number, m: KafkaMessage): ConsumedRecord => ({
    topic,
    partition,
    offset: m.offset,
    timestamp: Number(m.timestamp),
    key: m.key ? m.key.toString('utf8') : null,
    value: m.value,
    headers: {},
  });
  const onBatch = createDueBatchHandler({
    opts,
    clock,
    heartbeatIntervalMs: heartbeatInterval,
    pauses,
    commit: (topic, partition, lastOffset) => commitThrough(consumer, topic, partition, lastOffset),
  });

  await consumer.connect();
  await consumer.subscribe({ topics: [...opts.topics], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 4,
    eachBatch: ({ batch, resolveOffset, heartbeat, isRunning, isStale }) =>
      tracker.batch(batch.topic, batch.partition, () =>
        onBatch({
          topic: batch.topic,
          partition: batch.partition,
          records: batch.messages.map((m) => toRecord(batch.topic, batch.partition, m)),
          resolveOffset,
          heartbeat,
          isRunning,
          isStale,
        }),
      ),
  });
  return {
    health: () => [tracker.health()],
    stop: async () => {
      pauses.dropTimers();
      await consumer.disconnect();
    },
  };
}
