// The consumer-group runner of the batch consumers (actors, delivery planner), on kafkajs: per-partition batches,
// offsets committed only after the handler applied a batch, heartbeats while it runs, co-partitioned assignment.
// kafkajs stays for the consumers (docs/decisions/0011-kafka-port.md): @platformatic/kafka's consumer is one message
// stream per member, without the per-partition pause the delay tiers need.
import { AssignerProtocol, type Consumer, type EachBatchPayload, type Kafka, type PartitionAssigner } from 'kafkajs';
import { type BatchConsumerOptions, type ConsumedRecord, type RunningConsumer } from '../port.ts';
import { trackHealth } from './health.ts';
import { DEFAULT_SESSION_TIMEOUT_MS, heartbeatIntervalFor, whileBeating } from './keep-alive.ts';

/** Runs a consumer group whose handler applies each partition batch before its offsets are committed. */
export async function runBatchConsumer(kafka: Kafka, opts: BatchConsumerOptions): Promise<RunningConsumer> {
  const sessionTimeout = opts.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
  const heartbeatInterval = heartbeatIntervalFor(sessionTimeout);
  const consumer: Consumer = kafka.consumer({
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
  const tracker = trackHealth(consumer, opts.groupId);
  const lock = keyedLock();
  await consumer.connect();
  await consumer.subscribe({ topics: [...opts.topics], fromBeginning: opts.fromBeginning ?? true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? 1,
    eachBatch: ({ batch, ...rest }) => {
      const tracked = () => tracker.batch(batch.topic, batch.partition, () => eachBatch({ batch, ...rest }));
      return opts.copartitioned ? lock(String(batch.partition), tracked) : tracked();
    },
  });
  return { stop: () => consumer.disconnect(), health: () => [tracker.health()] };

  async function eachBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const records: ConsumedRecord[] = batch.messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      timestamp: Number(m.timestamp),
      key: m.key ? m.key.toString('utf8') : null,
      value: m.value,
      headers: Object.fromEntries(
        Object.entries(m.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : v === undefined ? '' : String(v)]),
      ),
    }));
    // The handler may take longer than the session (the actors' store writes during a slow store): the member keeps
    // heartbeating meanwhile, or the group would hand the partition to another member (or, alone, to this one after it
    // rejoins), and the batch would be applied a second time.
    await whileBeating(() => opts.handleBatch(records), {
      heartbeat,
      everyMs: heartbeatInterval,
      onError: (err) =>
        opts.log.debug(
          { err, topic: batch.topic, partition: batch.partition },
          'heartbeat during a batch failed (the group rejoins after it)',
        ),
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

const MEMBERSHIP_ERRORS: ReadonlySet<string> = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
]);

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
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: 'EchoCueCoPartitioned',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});
