// Reads what is really on a topic: every record from the beginning, decoded through the schema registry. Through the
// events port (src/events/port.ts), as the system itself reads Kafka.
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { type Config } from '../src/config/index.ts';
import { createLogger } from '../src/core/log.ts';
import { schemasByTopic } from '../src/events/avro-schemas.ts';
import { createKafkaEvents } from '../src/events/kafka/index.ts';
import { type ConsumedRecord, type Events } from '../src/events/port.ts';
import { createEventSerde } from '../src/events/serde.ts';
import { topicNames } from '../src/events/topics.ts';

export type TopicRecord = {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
};

/** An events client for a test or a benchmark script (logs only errors). Close it after use. */
export function testEvents(config: Config, clientId = 'echocue-test'): Events {
  return createKafkaEvents({ brokers: config.kafka.brokers, clientId, log: createLogger({ level: 'error' }) });
}

/** Runs `fn` with an events client that is closed afterwards. */
export async function withEvents<T>(config: Config, fn: (events: Events) => Promise<T>): Promise<T> {
  const events = testEvents(config);
  try {
    return await fn(events);
  } finally {
    await events.close();
  }
}

/**
 * Reads every record on `topics` up to each partition's current end (its high watermark when the read starts), with
 * a consumer group of its own, handing each record to `onRecord`; fails after `timeoutMs` with `timeoutMessage(read)`.
 * Used by the tests' readTopics and the outbound benchmark's due-time reader.
 */
export async function readToEnd(
  events: Events,
  topics: readonly string[],
  opts: Readonly<{ groupId: string; timeoutMs: number; timeoutMessage: (read: number) => string }>,
  onRecord: (r: ConsumedRecord) => void,
): Promise<void> {
  const ends = new Map<string, bigint>();
  for (const [topic, offsets] of await events.admin.endOffsets(topics)) offsets.forEach((o, p) => o > 0n && ends.set(`${topic}|${p}`, o));
  if (ends.size === 0) return;
  let read = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const consumer = await events.runBatchConsumer({
    groupId: opts.groupId,
    topics: [...new Set([...ends.keys()].map((k) => k.slice(0, k.lastIndexOf('|'))))],
    log: createLogger({ level: 'error' }),
    concurrency: 4,
    async handleBatch(records) {
      for (const r of records) {
        onRecord(r);
        read++;
        const k = `${r.topic}|${r.partition}`;
        if (BigInt(r.offset) + 1n >= (ends.get(k) ?? 0n)) ends.delete(k);
      }
      if (ends.size === 0) done();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      all,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(opts.timeoutMessage(read))), opts.timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.stop();
  }
}

/** All records currently on the given topics (each partition read up to its high watermark), one consumer for all. */
export async function readTopics(config: Config, topics: readonly string[]): Promise<TopicRecord[]> {
  return withEvents(config, async (events) => {
    const out: TopicRecord[] = [];
    await readToEnd(
      events,
      topics,
      {
        groupId: `reader-${Date.now()}-${Math.random()}`,
        timeoutMs: 60_000,
        timeoutMessage: (read) => `read only ${read} records to the end of ${topics.join(', ')}`,
      },
      (r) =>
        out.push({
          topic: r.topic,
          partition: r.partition,
          offset: r.offset,
          key: r.key,
          value: r.value ?? Buffer.alloc(0),
          headers: { ...r.headers },
        }),
    );
    return out.sort((x, y) =>
      x.topic === y.topic ? x.partition - y.partition || Number(BigInt(x.offset) - BigInt(y.offset)) : x.topic < y.topic ? -1 : 1,
    );
  });
}

export const readTopic = (config: Config, topic: string): Promise<TopicRecord[]> => readTopics(config, [topic]);

/** A decoder for every event topic of a config, through the same registry the system uses. */
export async function eventDecoder(config: Config) {
  const topics = topicNames(config.kafka.topicPrefix);
  const registry = new SchemaRegistryClient({ baseURLs: [config.registry.url] });
  const serde = await createEventSerde(registry, schemasByTopic(topics));
  return { topics, serde, registry };
}
