// The only module that touches kafkajs. Everything else uses the EventProducer / batch-consumer ports below,
// so the client can be swapped here alone (docs/decisions/0001-kafka-client.md).
import { AssignerProtocol, Kafka, Partitioners, logLevel, type ConfigResourceTypes, type Consumer, type EachBatchPayload, type LogEntry, type PartitionAssigner, type Producer } from 'kafkajs';
import { AppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { type DurabilityFloor } from '../config/index.ts';
import { belowFloor, type TopicDurability } from './durability.ts';
import { whileBeating } from './keep-alive.ts';

export type KafkaOptions = Readonly<{ brokers: readonly string[]; clientId: string; log: Logger; requestTimeoutMs?: number }>;

// kafkajs logs every retriable protocol error (a broker still loading, a rebalance) at ERROR and then retries
// by itself; what really fails reaches our code as a rejected promise and is logged there. So ERROR -> warn.
const LEVELS: Record<number, 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'warn',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

export function createKafka({ brokers, clientId, log, requestTimeoutMs }: KafkaOptions): Kafka {
  const klog = log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers: [...brokers],
    connectionTimeout: 3000,
    requestTimeout: requestTimeoutMs ?? 10000,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        klog[LEVELS[level] ?? 'info'](rest, message);
      },
  });
}

export type EventRecord = Readonly<{
  topic: string;
  key: string;
  value: Buffer;
  headers?: Readonly<Record<string, string>>;
}>;

/** Writes records durably: resolves only when every record is acknowledged by all in-sync replicas. */
export interface EventProducer {
  send(records: readonly EventRecord[], opts: { timeoutMs: number }): Promise<void>;
  disconnect(): Promise<void>;
}

/** Per-topic record batch limit EchoCue's topics are created with (a 3 MiB webhook body plus headroom). */
export const TOPIC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** One write stays well under the topics' batch limit (a caller's larger send is split into several writes, a single
 *  larger record goes alone), and serves at most this many callers. */
const MAX_WRITE_BYTES = 768 * 1024;
const MAX_WRITE_CALLERS = 500;
/** The broker's own timeout for a write; callers give up earlier on their own deadline. */
const WRITE_TIMEOUT_MS = 30_000;

const sizeOf = (records: readonly EventRecord[]): number => records.reduce((n, r) => n + r.value.length + r.key.length + 64, 0);

/** Consecutive chunks of at most `max` bytes (a record larger than that is a chunk of its own). */
export function chunkBySize(records: readonly EventRecord[], max: number): EventRecord[][] {
  const chunks: EventRecord[][] = [];
  let current: EventRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = sizeOf([r]);
    if (current.length > 0 && bytes + size > max) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export async function createEventProducer(kafka: Kafka): Promise<EventProducer> {
  const newProducer = (): Producer =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      // The default (murmur2, Java-compatible) partitioner, named so kafkajs does not warn about its v2 change.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      // Bounded retries: past the ingest deadline the caller answers 503 and Meta redelivers (same event ids),
      // so an endless in-process retry would only pile up pending sends during an outage.
      retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 4 },
    });
  let producer: Producer = newProducer();
  await producer.connect();
  // After a failed write the producer is replaced, never reused. kafkajs 2.2.4 rewinds its sequence numbers after a
  // failed send without taking a new producer id: when the broker had written the batch and only the
  // acknowledgement was lost, the next batch of the same record count reuses its sequence numbers and the broker
  // drops it as a duplicate, and that write is acknowledged: events lost after their 200 (reproduced by
  // test/e2e/ingest-kafka-faults.test.ts). A new producer gets a new producer id from the broker, so its sequence
  // numbers start afresh; what the failed write may have left on the topic stays at most once (its 503 made Meta
  // retry it with the same event ids).
  let broken = false;
  async function replaceProducer(): Promise<void> {
    const old = producer;
    producer = newProducer();
    await old.disconnect().catch(() => undefined);
    await producer.connect();
    broken = false;
  }

  // Group commit: while one write is in flight, the records of every caller that arrives meanwhile wait and go
  // together in the next write. kafkajs's idempotent producer serialises writes to a partition, so one write per
  // webhook POST caps ingest at one Kafka round trip per request; combined, one round trip serves them all.
  // Each caller still gets its own deadline and answer; a failed write fails exactly the callers in it.
  type Waiting = { records: readonly EventRecord[]; bytes: number; expired: boolean; resolve(): void; reject(err: unknown): void };
  const queue: Waiting[] = [];
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      // A caller past its deadline has answered 503 already (Meta sends it again): its records are not written.
      for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.expired) queue.splice(i, 1);
      if (queue.length === 0) break;
      let bytes = 0;
      let take = 0;
      while (take < queue.length && (take === 0 || (bytes + queue[take]!.bytes <= MAX_WRITE_BYTES && take < MAX_WRITE_CALLERS))) bytes += queue[take++]!.bytes;
      const group = queue.splice(0, take);
      const byTopic = new Map<string, { key: string; value: Buffer; headers?: Record<string, string> }[]>();
      for (const r of group.flatMap((g) => g.records)) {
        const list = byTopic.get(r.topic) ?? [];
        list.push({ key: r.key, value: r.value, ...(r.headers ? { headers: { ...r.headers } } : {}) });
        byTopic.set(r.topic, list);
      }
      try {
        if (broken) await replaceProducer();
        await producer.sendBatch({ acks: -1, timeout: WRITE_TIMEOUT_MS, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
        for (const g of group) g.resolve();
      } catch (err) {
        broken = true;
        for (const g of group) g.reject(err);
      }
    }
    flushing = false;
  }

  return {
    async send(records, { timeoutMs }) {
      if (records.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      let waiting: Waiting[] = [];
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          for (const part of waiting) part.expired = true;
          reject(new AppError('EC_KAFKA_UNAVAILABLE', `Kafka did not acknowledge ${records.length} record(s) within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const parts: Waiting[] = [];
      const write = Promise.all(
        chunkBySize(records, MAX_WRITE_BYTES).map(
          (chunk) =>
            new Promise<void>((resolve, reject) => {
              const part: Waiting = { records: chunk, bytes: sizeOf(chunk), expired: false, resolve, reject };
              parts.push(part);
              queue.push(part);
            }),
        ),
      ).then(() => undefined);
      waiting = parts;
      if (!flushing) void flush();
      write.catch(() => undefined); // a late failure after the deadline is already answered with 503
      try {
        await Promise.race([write, deadline]);
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('EC_KAFKA_UNAVAILABLE', `Kafka rejected the write: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

export type ConsumedRecord = Readonly<{
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Readonly<Record<string, string>>;
}>;

export type BatchConsumerOptions = Readonly<{
  kafka: Kafka;
  groupId: string;
  topics: readonly string[];
  log: Logger;
  /** Applies a whole partition batch. Offsets are committed only after it resolves (at-least-once). The member
   *  heartbeats meanwhile by itself; `heartbeat` is there for a handler that wants to beat at a point of its own. */
  handleBatch(records: readonly ConsumedRecord[], heartbeat: () => Promise<void>): Promise<void>;
  /** Start from the earliest offset when the group has none (default true: no event is skipped). */
  fromBeginning?: boolean;
  /**
   * Co-partitioned: partition p of every subscribed topic goes to the same member, and batches of the same
   * partition number never run at the same time. With equal partition counts and the same key (the WABA id),
   * all events of one WABA, whatever their topic, then have exactly one writer.
   */
  copartitioned?: boolean;
  /** Partitions processed at once by this member (default 1). */
  concurrency?: number;
  /** Called whenever this member's partitions may have changed hands (it joined the group again, or its consumer
   *  crashed and restarts): state kept for the partitions it owned is no longer known to be current. */
  onOwnershipChange?: () => void;
  /** The group session timeout (default 30 s; the member heartbeats every fifth of it, at most every 3 s, also while
   *  a batch is handled). Tests shorten it. */
  sessionTimeoutMs?: number;
}>;

export type RunningConsumer = Readonly<{ stop(): Promise<void> }>;

/** Runs a consumer group whose handler applies each partition batch before its offsets are committed. */
export async function runBatchConsumer(opts: BatchConsumerOptions): Promise<RunningConsumer> {
  const sessionTimeout = opts.sessionTimeoutMs ?? 30000;
  const heartbeatInterval = Math.min(3000, Math.floor(sessionTimeout / 5));
  const consumer: Consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    allowAutoTopicCreation: false,
    sessionTimeout,
    rebalanceTimeout: Math.max(sessionTimeout, 10000) * 2,
    heartbeatInterval,
    ...(opts.copartitioned ? { partitionAssigners: [CoPartitionedAssigner] } : {}),
  });
  if (opts.onOwnershipChange) {
    const changed = opts.onOwnershipChange;
    consumer.on(consumer.events.GROUP_JOIN, () => changed());
    consumer.on(consumer.events.CRASH, () => changed());
  }
  const lock = keyedLock();
  await consumer.connect();
  await consumer.subscribe({ topics: [...opts.topics], fromBeginning: opts.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 1,
    eachBatch: ({ batch, ...rest }) =>
      opts.copartitioned ? lock(String(batch.partition), () => eachBatch({ batch, ...rest })) : eachBatch({ batch, ...rest }),
  });
  return { stop: () => consumer.disconnect() };

  async function eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const records: ConsumedRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key ? m.key.toString('utf8') : null,
      value: m.value,
      headers: Object.fromEntries(
        Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : v === undefined ? '' : String(v)]),
      ),
    }));
    // The handler may take longer than the session (the actors' store writes during a slow store): the member keeps
    // heartbeating meanwhile, or the group would hand the partition to another member (or, alone, to this one after it
    // rejoins), and the batch would be applied a second time.
    await whileBeating(() => opts.handleBatch(records, heartbeat), {
      heartbeat,
      everyMs: heartbeatInterval,
      onError: (err) => opts.log.debug({ err, topic: batch.topic, partition: batch.partition }, 'heartbeat during a batch failed (the group rejoins after it)'),
    });
    const last = batch.messages[batch.messages.length - 1]!;
    // Resolving moves kafkajs's fetch position past the batch; without it the same batch is fetched again.
    resolveOffset(last.offset);
    // Never offset-before-apply: the commit names the next offset to read, after the whole batch is stored.
    await commitThrough(consumer, batch.topic, batch.partition, last.offset);
  }
}

/** Commits a partition's offsets through `lastOffset` (the commit names the next offset to read). A member that is
 *  no longer in the group gets the broker's own answer back, so that kafkajs rejoins (groupMembershipError). */
export async function commitThrough(consumer: Consumer, topic: string, partition: number, lastOffset: string): Promise<void> {
  try {
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }]);
  } catch (err) {
    throw groupMembershipError(err) ?? err;
  }
}

const MEMBERSHIP_ERRORS: ReadonlySet<string> = new Set(['UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP']);

/**
 * The broker's own answer when a commit failed because this member is no longer in the group (evicted after a silence
 * past the session timeout: a long GC pause, a lost network) or the group is rebalancing. kafkajs's runner rejoins the
 * group on exactly these answers thrown from a batch, and then fetches again from the committed offsets. But
 * commitOffsets hands them back wrapped in a KafkaJSNonRetriableError, on which the consumer crashes and never
 * restarts: the actors would stop for good. Unwrapped, the batch is fetched again after the rejoin and applied again
 * (at-least-once; the actors' reducers and fenced writes make that harmless).
 */
function groupMembershipError(err: unknown): Error | undefined {
  for (let e = err as { type?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.type === 'string' && MEMBERSHIP_ERRORS.has(e.type)) return e as unknown as Error;
  }
  return undefined;
}

/** Runs tasks of one key one after another; tasks of different keys run concurrently. */
function keyedLock() {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const prev = tails.get(key) ?? Promise.resolve();
    const run = prev.then(task, task);
    const tail = run.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return run;
  };
}

/** Assigns partition p of every topic to the same member (members sorted by id, p round-robin). */
const CoPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'EchoCueCoPartitioned',
  version: 0,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const owner = assignment.get(ids[partitionId % ids.length]!)!;
        (owner[topic] ??= []).push(partitionId);
      }
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: assignment.get(memberId)!, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: 'EchoCueCoPartitioned', metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});

/** Co-partitioning needs one partition count for all the topics; fails naming the odd ones out. */
export async function assertSamePartitionCount(kafka: Kafka, topics: readonly string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
    const counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    if (new Set(counts.values()).size > 1) {
      throw new AppError('EC_CONFIG_INVALID', `the actor topics must have one partition count, found ${[...counts].map(([t, n]) => `${t}=${n}`).join(', ')}`);
    }
  } finally {
    await admin.disconnect();
  }
}

/** Creates the topics that do not exist yet and waits until every partition has a leader. Idempotent.
 *  A broker that has just started (or is creating other topics) answers "does not host this topic-partition"
 *  for a moment: such retriable answers are retried a few times before giving up. */
export async function ensureTopics(
  kafka: Kafka,
  topics: readonly string[],
  settings: Readonly<{ partitions: number; replicationFactor: number; minInsyncReplicas?: number }>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({
              topic,
              numPartitions: settings.partitions,
              replicationFactor: settings.replicationFactor,
              // Meta's bodies reach 3 MiB (the raw topic keeps them whole), above Kafka's 1 MiB default.
              configEntries: [
                { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
                // How many replicas every acks=all write must reach (else the broker refuses it): without it the
                // broker's default applies, 1 unless configured, and one lost disk can lose acknowledged events.
                ...(settings.minInsyncReplicas ? [{ name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) }] : []),
              ],
            })),
          });
        }
        await admin.fetchTopicMetadata({ topics: [...topics] });
        return;
      } catch (err) {
        const retriable = (err as { retriable?: boolean }).retriable === true || (err as Error).name === 'KafkaJSTopicMetadataNotLoaded';
        if (!retriable || attempt >= 6) throw err;
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** ConfigResourceTypes.TOPIC: Node's ESM loader does not see that enum among kafkajs's CommonJS exports (only vitest's
 *  loader does), so its value is named here. */
const TOPIC_RESOURCE = 2 as ConfigResourceTypes.TOPIC;

/** The topics' actual replication factor (the fewest replicas of any partition) and min.insync.replicas, as the
 *  broker has them (set on the topic or inherited from the broker). */
export async function describeTopicDurability(kafka: Kafka, topics: readonly string[]): Promise<TopicDurability[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [...topics] });
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['min.insync.replicas'] })),
    });
    return topics.map((topic) => {
      const partitions = meta.topics.find((t) => t.name === topic)?.partitions ?? [];
      const resource = resources.find((r) => r.resourceName === topic);
      const value = resource?.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue;
      if (partitions.length === 0 || value === undefined) {
        throw new AppError('EC_CONFIG_INVALID', `cannot read the replication settings of topic ${topic}${resource?.errorMessage ? `: ${resource.errorMessage}` : ''}`);
      }
      return { topic, replicationFactor: Math.min(...partitions.map((p) => p.replicas.length)), minInsyncReplicas: Number(value) };
    });
  } finally {
    await admin.disconnect();
  }
}

/** Refuses to go on when any of the topics is below the floor, naming each of them and what it lacks. */
export async function assertTopicDurability(kafka: Kafka, topics: readonly string[], floor: DurabilityFloor): Promise<void> {
  const low = belowFloor(await describeTopicDurability(kafka, topics), floor);
  if (low.length > 0) {
    throw new AppError(
      'EC_CONFIG_INVALID',
      `topics below the durability NODE_ENV=production requires (replication factor ${floor.replicationFactor}, min.insync.replicas ${floor.minInsyncReplicas}): ${low.join(', ')}; `
        + 'raise them (kafka-reassign-partitions for replicas, kafka-configs --alter for min.insync.replicas), or set KAFKA_ALLOW_UNSAFE_DURABILITY=true',
    );
  }
}

/**
 * kafkajs 2.2.4 arms a timer with a negative delay on Node >= 23 (requestQueue throttle check, `throttledUntil`
 * starts at -1), which Node reports as TimeoutNegativeWarning on every connection; the timer then fires after 1 ms,
 * as kafkajs meant. Called once by process entry points; every other warning is still printed.
 */
export function silenceKafkajsTimeoutWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (w.name !== 'TimeoutNegativeWarning') process.stderr.write(`${w.name}: ${w.message}\n`);
  });
}
