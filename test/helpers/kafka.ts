// Reads what is really on a topic: every record from the beginning, decoded through the schema registry. Through the
// events port (src/events/port.ts), as the system itself reads Kafka.
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { type Config } from '../../src/config/index.ts';
import { createLogger } from '../../src/core/log.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createKafkaEvents } from '../../src/events/kafka/index.ts';
import { type Events } from '../../src/events/port.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';

export type TopicRecord = { topic: string; partition: number; offset: string; key: string | null; value: Buffer; headers: Record<string, string> };

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

/** All records currently on the given topics (each partition read up to its high watermark), one consumer for all. */
export async function readTopics(config: Config, topics: readonly string[]): Promise<TopicRecord[]> {
  return withEvents(config, async (events) => {
    const ends = await events.admin.endOffsets(topics);
    let total = 0n;
    const nonEmpty: string[] = [];
    for (const [topic, offsets] of ends) {
      const n = offsets.reduce((a, o) => a + (o > 0n ? o : 0n), 0n);
      if (n > 0n) nonEmpty.push(topic);
      total += n;
    }
    const out: TopicRecord[] = [];
    if (total === 0n) return out;
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const consumer = await events.runBatchConsumer({
      groupId: `reader-${Date.now()}-${Math.random()}`,
      topics: nonEmpty,
      log: createLogger({ level: 'error' }),
      concurrency: 4,
      async handleBatch(records) {
        for (const r of records) out.push({ topic: r.topic, partition: r.partition, offset: r.offset, key: r.key, value: r.value ?? Buffer.alloc(0), headers: { ...r.headers } });
        if (BigInt(out.length) >= total) done();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([all, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`read only ${out.length} of ${total} records from ${nonEmpty.join(', ')}`)), 60_000)))]);
    } finally {
      clearTimeout(timer);
      await consumer.stop();
    }
    return out.sort((x, y) => (x.topic === y.topic ? x.partition - y.partition || Number(BigInt(x.offset) - BigInt(y.offset)) : x.topic < y.topic ? -1 : 1));
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
