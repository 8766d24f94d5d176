// Topics and offsets on @platformatic/kafka's admin client: creating EchoCue's topics with their configs, reading
// their durability settings, end offsets and a group's committed offsets.
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { AppError } from '../../core/errors.ts';
import { withRetries } from '../../core/retry.ts';
import { type TopicDurability } from '../durability.ts';
import { type EventsAdmin, type GroupDescription, type PartitionOffsets, type TopicSettings } from '../port.ts';
import { platformaticOptions, type ClientOptions } from './options.ts';

/** Per-topic record batch limit EchoCue's topics are created with (a 3 MiB webhook body plus headroom). */
export const TOPIC_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

const LATEST = -1n;
const EARLIEST = -2n;

export function createEventsAdmin(opts: ClientOptions): EventsAdmin & { close(): Promise<void> } {
  const admin = new Admin(platformaticOptions(opts, `${opts.clientId}-admin`));

  const metadata = (topics: readonly string[]) => admin.metadata({ topics: [...topics], forceUpdate: true });

  async function partitionCounts(topics: readonly string[]): Promise<ReadonlyMap<string, number>> {
    const meta = await metadata(topics);
    return new Map(topics.map((t) => [t, meta.topics.get(t)?.partitionsCount ?? 0]));
  }

  /** The offsets at `timestamp` (LATEST: the high watermark; EARLIEST: the oldest record retention kept). */
  async function listOffsets(topics: readonly string[], timestamp: bigint): Promise<PartitionOffsets> {
    const counts = await partitionCounts(topics);
    const listed = await admin.listOffsets({
      topics: topics.map((name) => ({
        name,
        partitions: Array.from({ length: counts.get(name) ?? 0 }, (_, partitionIndex) => ({ partitionIndex, timestamp })),
      })),
    });
    return byPartition(
      topics,
      listed.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ index: p.partitionIndex, offset: p.offset })) })),
      counts,
    );
  }

  return {
    async ensureTopics(topics: readonly string[], settings: TopicSettings): Promise<void> {
      // A broker that has just started (or is creating other topics) answers "does not host this topic-partition"
      // or "leader not available" for a moment: retried a few times before giving up.
      await withRetries(
        () =>
          ensureOnce().catch((err: unknown) => {
            throw kafkaUnavailable(err) ?? err;
          }),
        { attempts: 8, delayMs: (attempt) => 250 * attempt },
      );

      async function ensureOnce(): Promise<void> {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length > 0) {
          await admin
            .createTopics({
              topics: missing,
              partitions: settings.partitions,
              replicas: settings.replicationFactor,
              configs: [
                // Meta's bodies reach 3 MiB (the raw topic keeps them whole), above Kafka's 1 MiB default.
                { name: 'max.message.bytes', value: String(TOPIC_MAX_MESSAGE_BYTES) },
                // How many replicas every acks=all write must reach (else the broker refuses it): without it the
                // broker's default applies, 1 unless configured, and one lost disk can lose acknowledged events.
                ...(settings.minInsyncReplicas ? [{ name: 'min.insync.replicas', value: String(settings.minInsyncReplicas) }] : []),
              ],
            })
            .catch((err: unknown) => {
              // Another process created some of them meanwhile (processes starting together): fine.
              if (!hasCode(err, 'TOPIC_ALREADY_EXISTS')) throw err;
            });
        }
        const meta = await metadata(topics);
        const leaderless = topics.filter((t) => {
          const tm = meta.topics.get(t);
          return !tm || tm.partitions.some((p) => p.leader < 0);
        });
        if (leaderless.length > 0) throw new AppError('EC_KAFKA_UNAVAILABLE', `topics without a leader yet: ${leaderless.join(', ')}`);
      }
    },

    listTopics: () => admin.listTopics(),

    async deleteTopics(topics: readonly string[]): Promise<void> {
      if (topics.length > 0) await admin.deleteTopics({ topics: [...topics] });
    },

    partitionCounts,

    async describeDurability(topics: readonly string[]): Promise<TopicDurability[]> {
      const meta = await metadata(topics);
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: topics.map((name) => ({
          resourceType: ConfigResourceTypes.TOPIC,
          resourceName: name,
          configurationKeys: ['min.insync.replicas'],
        })),
      });
      return topics.map((topic) => {
        const partitions = meta.topics.get(topic)?.partitions ?? [];
        const value = described.find((r) => r.resourceName === topic)?.configs.find((c) => c.name === 'min.insync.replicas')?.value;
        if (partitions.length === 0 || value === undefined || value === null) {
          throw new AppError('EC_CONFIG_INVALID', `cannot read the replication settings of topic ${topic}`);
        }
        return { topic, replicationFactor: Math.min(...partitions.map((p) => p.replicas.length)), minInsyncReplicas: Number(value) };
      });
    },

    endOffsets: (topics: readonly string[]) => listOffsets(topics, LATEST),
    startOffsets: (topics: readonly string[]) => listOffsets(topics, EARLIEST),

    async committedOffsets(groupId: string, topics: readonly string[]): Promise<PartitionOffsets> {
      const counts = await partitionCounts(topics);
      const [group] = await admin.listConsumerGroupOffsets({
        groups: [
          {
            groupId,
            topics: topics.map((name) => ({ name, partitionIndexes: Array.from({ length: counts.get(name) ?? 0 }, (_, i) => i) })),
          },
        ],
      });
      return byPartition(
        topics,
        (group?.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({ index: p.partitionIndex, offset: p.committedOffset })),
        })),
        counts,
      );
    },

    async describeGroup(groupId: string): Promise<GroupDescription> {
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      return {
        state: group?.state ?? 'Dead',
        members: [...(group?.members.values() ?? [])].map((m) => ({
          id: m.id,
          partitions: [...(m.assignments?.values() ?? [])].reduce((n, a) => n + a.partitions.length, 0),
        })),
      };
    },

    close: () => admin.close(),
  };
}

function byPartition(
  topics: readonly string[],
  listed: readonly { name: string; partitions: readonly { index: number; offset: bigint }[] }[],
  counts: ReadonlyMap<string, number>,
): PartitionOffsets {
  const out = new Map<string, bigint[]>();
  for (const topic of topics)
    out.set(
      topic,
      Array.from({ length: counts.get(topic) ?? 0 }, () => -1n),
    );
  for (const t of listed) {
    const offsets = out.get(t.name);
    if (offsets) for (const p of t.partitions) offsets[p.index] = p.offset;
  }
  return out;
}

/** Whether a client error (or one it aggregates) carries the broker's answer `code`, e.g. TOPIC_ALREADY_EXISTS. */
function hasCode(err: unknown, apiCode: string): boolean {
  return someError(
    err,
    (e) => e.apiCode === apiCode || e.apiId === apiCode || (typeof e.message === 'string' && e.message.includes(apiCode)),
  );
}

/** A client failure that may pass by itself (the client marks it retriable, or the network failed) as
 *  EC_KAFKA_UNAVAILABLE, which withRetries retries; null for any other. */
function kafkaUnavailable(err: unknown): AppError | null {
  if (err instanceof AppError) return null;
  const passes = someError(err, (e) => e.retriable === true || e.canRetry === true || e.code === 'PLT_KFK_NETWORK');
  return passes ? new AppError('EC_KAFKA_UNAVAILABLE', `the broker did not answer: ${(err as Error).message}`, { cause: err }) : null;
}

type ErrorLike = {
  apiCode?: unknown;
  apiId?: unknown;
  message?: unknown;
  retriable?: unknown;
  canRetry?: unknown;
  code?: unknown;
  errors?: unknown;
  cause?: unknown;
};

function someError(err: unknown, test: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as ErrorLike;
  if (test(e)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => someError(x, test, depth + 1))) return true;
  return someError(e.cause, test, depth + 1);
}
