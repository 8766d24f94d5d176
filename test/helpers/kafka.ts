// Reads what is really on a topic: every record from the beginning, decoded through the schema registry.
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { type Config } from '../../src/config/index.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';

export type TopicRecord = { topic: string; partition: number; offset: string; key: string | null; value: Buffer; headers: Record<string, string> };

/** All records currently on the given topics (each partition read up to its high watermark), one consumer for all. */
export async function readTopics(config: Config, topics: readonly string[]): Promise<TopicRecord[]> {
  const kafka = new Kafka({ brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let total = 0n;
  const nonEmpty: string[] = [];
  for (const topic of topics) {
    const n = (await admin.fetchTopicOffsets(topic)).reduce((a, p) => a + BigInt(p.high), 0n);
    if (n > 0n) nonEmpty.push(topic);
    total += n;
  }
  await admin.disconnect();
  const out: TopicRecord[] = [];
  if (total === 0n) return out;
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: nonEmpty, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`read only ${out.length} of ${total} records from ${nonEmpty.join(', ')}`)), 60_000);
    consumer
      .run({
        eachMessage: async ({ topic, partition, message }) => {
          out.push({
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value!,
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          });
          if (BigInt(out.length) >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return out.sort((x, y) => (x.topic === y.topic ? x.partition - y.partition || Number(BigInt(x.offset) - BigInt(y.offset)) : x.topic < y.topic ? -1 : 1));
}

export const readTopic = (config: Config, topic: string): Promise<TopicRecord[]> => readTopics(config, [topic]);

/** A decoder for every event topic of a config, through the same registry the system uses. */
export async function eventDecoder(config: Config) {
  const topics = topicNames(config.kafka.topicPrefix);
  const registry = new SchemaRegistryClient({ baseURLs: [config.registry.url] });
  const serde = await createEventSerde(registry, schemasByTopic(topics));
  return { topics, serde, registry };
}
