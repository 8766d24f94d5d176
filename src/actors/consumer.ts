// Wires the actors to Kafka: one co-partitioned consumer group over every topic they read, so all events of a
// WABA have one writer. Each partition batch is decoded, applied through a Session, then committed; an event that
// cannot be decoded or applied goes to the dead-letter topic with the reason, and the partition keeps moving.
import { AppError, isAppError } from '../core/errors.ts';
import { type Logger } from '../core/log.ts';
import { type Metrics } from '../core/metrics.ts';
import { type ConsumedRecord, type EventProducer, type Events, type RunningConsumer } from '../events/port.ts';
import { type EventSerde } from '../events/serde.ts';
import { type EventType, type Topics } from '../events/topics.ts';
import { ACTOR_EVENT_TYPES, applyBatch, type DecodedEvent } from './apply.ts';
import { type ActorStore } from './ports.ts';
import { Session } from './session.ts';
import { StateCache } from './state-cache.ts';
import { notificationsOf } from './notify.ts';
import { encodeJson } from '../events/outbound.ts';
import { storeRefusedData } from '../store/errors.ts';

/** The actors' consumer group and the topics it reads, derived from KAFKA_TOPIC_PREFIX (the KEDA scaler in
 *  deploy/k8s and the lag metrics name the same). */
export const actorsGroup = (groupPrefix: string, topics: Topics) =>
  ({ groupId: `${groupPrefix}echocue.actors`, topics: ACTOR_EVENT_TYPES.map((t) => topics.events[t]) }) as const;

export type ActorsDeps = Readonly<{
  events: Events;
  serde: EventSerde;
  topics: Topics;
  groupId: string;
  store: ActorStore;
  /** Writes dead letters and notifications. */
  producer: EventProducer;
  log: Logger;
  metrics: Metrics;
  /** Partitions applied at once by this process (ACTORS_PARTITION_CONCURRENCY). */
  concurrency: number;
  /** How long a dead letter or a notification write waits for Kafka's acknowledgement (KAFKA_PRODUCE_TIMEOUT_MS). */
  produceTimeoutMs: number;
  /** Documents kept in memory between batches for the partitions this member owns (0: none). */
  cacheMaxDocs: number;
  /** The group session timeout (default 30 s). */
  sessionTimeoutMs?: number;
}>;

export async function startActors(deps: ActorsDeps): Promise<RunningConsumer> {
  const log = deps.log.child({ component: 'actors' });
  const typeOfTopic = new Map<string, EventType>(ACTOR_EVENT_TYPES.map((t) => [deps.topics.events[t], t]));
  // One cache for the member: the WABAs of different partitions never share a document. Dropped whenever the
  // member's partitions may have moved, and after any failed batch (what the store holds is then unknown).
  const cache = new StateCache(deps.cacheMaxDocs);

  async function deadLetter(r: ConsumedRecord, error: AppError): Promise<void> {
    deps.metrics.actorDeadLettered.inc({ code: error.code });
    log.warn(
      { topic: r.topic, partition: r.partition, offset: r.offset, eventId: r.headers['event_id'], code: error.code },
      `dead-lettered: ${error.message}`,
    );
    await deps.producer.send(
      [
        {
          topic: deps.topics.deadLetter,
          key: r.key ?? '',
          value: r.value ?? Buffer.alloc(0),
          headers: {
            ...r.headers,
            'dlq-reason': error.message,
            'dlq-code': error.code,
            'dlq-source-topic': r.topic,
            'dlq-source-partition': String(r.partition),
            'dlq-source-offset': r.offset,
          },
        },
      ],
      { timeoutMs: deps.produceTimeoutMs },
    );
  }

  return await deps.events.runBatchConsumer({
    groupId: deps.groupId,
    topics: [...typeOfTopic.keys()],
    log,
    copartitioned: true,
    concurrency: deps.concurrency,
    ...(deps.sessionTimeoutMs ? { sessionTimeoutMs: deps.sessionTimeoutMs } : {}),
    onOwnershipChange: () => cache.clear(),
    async handleBatch(records) {
      const endTimer = deps.metrics.actorBatchApply.startTimer({ event_type: typeOfTopic.get(records[0]?.topic ?? '') ?? 'unknown' });
      try {
        await applyRecords(records);
        endTimer({ outcome: 'ok' });
      } catch (err) {
        endTimer({ outcome: storeRefusedData(err) !== null ? 'refused' : 'error' });
        cache.clear();
        if (storeRefusedData(err) !== null) return applyOneByOne(records);
        if (err instanceof AppError && err.code === 'EC_STORE_CONFLICT') {
          deps.metrics.actorConflicts.inc();
          log.warn({ ...batchIds(records) }, `batch not written: ${err.message}; retried from a fresh read`);
        }
        throw err;
      }
    },
  });

  /** The store refused a write of the batch for its data (issue 16: U+0000 on FerretDB over PostgreSQL stalled a
   *  partition for good): the events are applied again one at a time, and one whose own write the store refuses
   *  goes to the dead-letter topic (EC_STORE_REFUSED) instead of failing its partition on every retry. The others
   *  apply as usual (those already written by the failed try are redeliveries: nothing changes). Any other failure
   *  fails the batch, which is retried as always. */
  async function applyOneByOne(records: readonly ConsumedRecord[]): Promise<void> {
    for (const r of records) {
      try {
        await applyRecords([r]);
      } catch (err) {
        cache.clear();
        const reason = storeRefusedData(err);
        if (reason === null) throw err;
        await deadLetter(r, new AppError('EC_STORE_REFUSED', `${reason}; the event is not applied (parts of it may be)`, { cause: err }));
      }
    }
  }

  async function applyRecords(records: readonly ConsumedRecord[]): Promise<void> {
    const decoded: { record: ConsumedRecord; event: DecodedEvent }[] = [];
    for (const r of records) {
      const type = typeOfTopic.get(r.topic)!;
      try {
        if (r.value === null) throw new AppError('EC_EVENT_DECODING', 'record has no value (tombstone)');
        const event = await deps.serde.decode(r.topic, r.value);
        decoded.push({ record: r, event: { type, event } as DecodedEvent });
      } catch (err) {
        // A record that can never decode (EC_EVENT_DECODING) is dead-lettered; a failure that may pass (the registry
        // is down: EC_SCHEMA_REGISTRY_UNAVAILABLE) or a bug fails the batch, which is retried.
        if (isAppError(err) && !err.retriable) await deadLetter(r, err);
        else throw err;
      }
    }
    const session = new Session(deps.store, cache);
    const rejected = await applyBatch(
      session,
      decoded.map((d) => d.event),
    );
    for (const { index, error } of rejected) await deadLetter(decoded[index]!.record, error);
    const failed = new Set(rejected.map((r) => r.index));
    // Stored: now tell outbound webhooks (before the offsets are committed, so a crash repeats, never loses, them).
    const notes = await notificationsOf(
      session,
      decoded.filter((_, i) => !failed.has(i)).map((d) => d.event),
    );
    if (notes.length > 0) {
      await deps.producer.send(
        notes.map((n) => ({
          topic: deps.topics.notifications,
          key: n.waba_id,
          value: encodeJson(n),
          headers: { category: n.category, notification_id: n.id },
        })),
        { timeoutMs: deps.produceTimeoutMs },
      );
    }
    decoded.forEach((d, i) => failed.has(i) || deps.metrics.actorEventsApplied.inc({ event_type: d.event.type }));
    log.debug({ ...batchIds(records), count: records.length }, 'applied batch');
  }
}

/** Where a batch is on the log, for its log lines: topic, partition and its first and last offsets. */
function batchIds(records: readonly ConsumedRecord[]) {
  const first = records[0];
  return { topic: first?.topic, partition: first?.partition, offset: first?.offset, lastOffset: records.at(-1)?.offset };
}
