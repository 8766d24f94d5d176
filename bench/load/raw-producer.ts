// Ingest's baseline (b): EchoCue's own producer writing the records a POST makes (events + the raw body), with no
// HTTP, no signature check and no JSON work: records are built once up front, then sent `concurrency` at a time.
import { SchemaRegistryClient } from '@confluentinc/schemaregistry';
import { type Config } from '../../src/config/index.ts';
import { createLogger } from '../../src/core/log.ts';
import { schemasByTopic } from '../../src/events/avro-schemas.ts';
import { createKafkaEvents } from '../../src/events/kafka/index.ts';
import { type EventRecord } from '../../src/events/port.ts';
import { createEventSerde } from '../../src/events/serde.ts';
import { topicNames } from '../../src/events/topics.ts';
import { parseJsonLossless } from '../../src/ingest/parse-json.ts';
import { splitPayload } from '../../src/ingest/split/split-payload.ts';
import { type SignedBody } from '../../harness/load/bodies.ts';

export type ProducerResult = { sends: number; events: number; seconds: number; eventsPerSecond: number; sendsPerSecond: number };

export async function rawProducerRate(
  config: Config,
  bodies: readonly SignedBody[],
  opts: { concurrency: number; seconds: number },
): Promise<ProducerResult> {
  const log = createLogger({ level: 'error' });
  const topics = topicNames(config.kafka.topicPrefix);
  const kafka = createKafkaEvents({ brokers: config.kafka.brokers, clientId: 'echocue-bench', log });
  await kafka.admin.ensureTopics(topics.all, { partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor });
  const serde = await createEventSerde(new SchemaRegistryClient({ baseURLs: [config.registry.url] }), schemasByTopic(topics));
  // The same records ingest writes for each body (src/ingest/app.ts), built once.
  const batches = bodies.map((b) => {
    const outcome = splitPayload(parseJsonLossless(b.body), { receivedAt: Date.now(), accountOf: () => null });
    const events = outcome.kind === 'events' ? outcome.events : [];
    const records: EventRecord[] = events.map((e) => ({
      topic: topics.events[e.eventType],
      key: e.key,
      value: serde.encode(topics.events[e.eventType], e.value),
      headers: { event_type: e.eventType, event_id: String(e.value['event_id']) },
    }));
    const key = (outcome.kind === 'events' ? outcome.wabaIds[0] : undefined) ?? 'none';
    records.push({
      topic: topics.raw,
      key,
      value: Buffer.from(b.body),
      headers: { 'content-type': 'application/json', 'event-count': String(events.length) },
    });
    return { records, events: events.length };
  });
  const producer = await kafka.createProducer();
  let sends = 0;
  let events = 0;
  const start = performance.now();
  const end = start + opts.seconds * 1000;
  try {
    await Promise.all(
      Array.from({ length: opts.concurrency }, async (_, worker) => {
        for (let i = worker; performance.now() < end; i += opts.concurrency) {
          const batch = batches[i % batches.length]!;
          await producer.send(batch.records, { timeoutMs: config.ingest.ackTimeoutMs });
          sends++;
          events += batch.events;
        }
      }),
    );
  } finally {
    await producer.disconnect();
    await kafka.close();
  }
  const seconds = (performance.now() - start) / 1000;
  return { sends, events, seconds, eventsPerSecond: events / seconds, sendsPerSecond: sends / seconds };
}
