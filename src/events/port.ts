// The events port: everything EchoCue does with Kafka, as types. The rest of src/ (ingest, actors, delivery, cli),
// the tests and the benchmarks see only this; the one implementation is src/events/kafka/ (createKafkaEvents), so
// the Kafka client can be swapped there alone (docs/decisions/0011-kafka-port.md).
import { type Clock } from '../core/clock.ts';
import { type Logger } from '../core/log.ts';
import { type ConsumerHealth } from './consumer-health.ts';
import { type TopicDurability } from './durability.ts';

export type EventRecord = Readonly<{
  topic: string;
  key: string;
  value: Buffer;
  headers?: Readonly<Record<string, string>>;
}>;

/** Writes records durably: resolves only when every record is acknowledged by all in-sync replicas (acks=all). */
export interface EventProducer {
  /** Rejects with EC_KAFKA_UNAVAILABLE when Kafka has not acknowledged every record within `timeoutMs`; records of a
   *  rejected send may or may not be on their topics (at most once each). */
  send(records: readonly EventRecord[], opts: { timeoutMs: number }): Promise<void>;
  disconnect(): Promise<void>;
}

export type ConsumedRecord = Readonly<{
  topic: string;
  partition: number;
  offset: string;
  /** The record's Kafka timestamp (ms since epoch): when the producer wrote it. */
  timestamp: number;
  key: string | null;
  value: Buffer | null;
  headers: Readonly<Record<string, string>>;
}>;

/** A running group member (or several, for a role that runs more than one group). `health` tells readiness whether
 *  each has joined its group, has not given up after a crash, and has no batch stuck in its handler. */
export type RunningConsumer = Readonly<{ stop(): Promise<void>; health(): readonly ConsumerHealth[] }>;

type GroupOptions = Readonly<{
  groupId: string;
  topics: readonly string[];
  log: Logger;
  /** Called whenever this member's partitions may have changed hands (it joined the group again, or its consumer
   *  crashed and restarts): state kept for the partitions it owned is no longer known to be current. */
  onOwnershipChange?: () => void;
  /** Partitions processed at once by this member. */
  concurrency?: number;
  /** The group session timeout (default 30 s): a member silent this long loses its partitions. The member
   *  heartbeats by itself, also while a batch is handled. Tests shorten it. */
  sessionTimeoutMs?: number;
}>;

export type BatchConsumerOptions = GroupOptions &
  Readonly<{
    /** Applies a whole partition batch. Offsets are committed only after it resolves (at-least-once); a rejection
     *  makes the same batch come again. */
    handleBatch(records: readonly ConsumedRecord[]): Promise<void>;
    /** Start from the earliest offset when the group has none (default true: no event is skipped). */
    fromBeginning?: boolean;
    /**
     * Co-partitioned: partition p of every subscribed topic goes to the same member, and batches of the same
     * partition number never run at the same time. With equal partition counts and the same key (the WABA id),
     * all events of one WABA, whatever their topic, then have exactly one writer.
     */
    copartitioned?: boolean;
  }>;

export type DueConsumerOptions = GroupOptions &
  Readonly<{
    /** When a record may be handled (ms since epoch). A partition whose next record is not due waits for it; the
     *  other partitions keep flowing. Always reads from the beginning when the group has no offsets. */
    dueAt: (r: ConsumedRecord) => number;
    /** Handles the due records at the front of a partition batch; their offsets are committed after it resolves. */
    handleBatch(records: readonly ConsumedRecord[]): Promise<void>;
    /** Tells when a record is due; default the system clock. */
    clock?: Clock;
    /** How often the member heartbeats, also while a batch is handled. Default a fifth of sessionTimeoutMs, at most 3000 ms; below sessionTimeoutMs. */
    heartbeatIntervalMs?: number;
  }>;

export type TopicSettings = Readonly<{ partitions: number; replicationFactor: number; minInsyncReplicas?: number }>;

/** Offsets per partition index of each topic. */
export type PartitionOffsets = ReadonlyMap<string, readonly bigint[]>;

export interface EventsAdmin {
  /** Creates the topics that do not exist yet (with EchoCue's topic configs) and waits until every partition has a
   *  leader. Idempotent. */
  ensureTopics(topics: readonly string[], settings: TopicSettings): Promise<void>;
  listTopics(): Promise<string[]>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  partitionCounts(topics: readonly string[]): Promise<ReadonlyMap<string, number>>;
  /** The topics' actual replication factor (fewest replicas of any partition) and min.insync.replicas. */
  describeDurability(topics: readonly string[]): Promise<TopicDurability[]>;
  /** The next offset to be written, per partition (the high watermark). */
  endOffsets(topics: readonly string[]): Promise<PartitionOffsets>;
  /** The oldest offset still on the log, per partition (0 until retention deletes records). */
  startOffsets(topics: readonly string[]): Promise<PartitionOffsets>;
  /** A group's committed offsets (the next offset it reads; -1 where it has none). */
  committedOffsets(groupId: string, topics: readonly string[]): Promise<PartitionOffsets>;
  /** A consumer group's state (Stable, PreparingRebalance, Empty, ...) and each member's assigned partition count. */
  describeGroup(groupId: string): Promise<GroupDescription>;
}

export type GroupDescription = Readonly<{ state: string; members: readonly Readonly<{ id: string; partitions: number }>[] }>;

/** One connection to the event log, shared by every role of a process. */
export interface Events {
  readonly admin: EventsAdmin;
  createProducer(): Promise<EventProducer>;
  runBatchConsumer(opts: BatchConsumerOptions): Promise<RunningConsumer>;
  runDueConsumer(opts: DueConsumerOptions): Promise<RunningConsumer>;
  /** Closes the admin connection; producers and consumers are stopped by their owners. */
  close(): Promise<void>;
}
