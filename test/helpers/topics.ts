// What is on a test's topics right now: totals, and decoded records of every event topic.
import { Kafka, logLevel } from 'kafkajs';
import { type Config } from '../../src/config/index.ts';
import { EVENT_TYPES, type EventType } from '../../src/events/topics.ts';
import { eventDecoder, readTopics, type TopicRecord } from './kafka.ts';

/** Records on every topic of the config's prefix (sum of high watermarks). */
export async function recordCount(config: Config): Promise<number> {
  const admin = new Kafka({ brokers: [...config.kafka.brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(config.kafka.topicPrefix));
    let n = 0;
    for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) n += Number(p.high);
    return n;
  } finally {
    await admin.disconnect();
  }
}

export type DecodedRecord = TopicRecord & { eventType: EventType; event: Record<string, unknown> };

/** Every record of every event topic, decoded through the registry. */
export async function readAllEvents(config: Config): Promise<DecodedRecord[]> {
  const { topics, serde } = await eventDecoder(config);
  const typeOf = new Map(EVENT_TYPES.map((t) => [topics.events[t], t]));
  const out: DecodedRecord[] = [];
  for (const r of await readTopics(config, EVENT_TYPES.map((t) => topics.events[t]))) {
    out.push({ ...r, eventType: typeOf.get(r.topic)!, event: await serde.decode(r.topic, r.value) });
  }
  return out;
}
